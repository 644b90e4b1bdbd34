"""The database tables, split by domain. Importing this package registers them all."""

from server.models.audit import AuditEvent, Change
from server.models.base import Base
from server.models.duplicates import (
    AnswerFingerprint,
    CaseStatus,
    DoubleEntry,
    DoubleEntryStatus,
    DuplicateCase,
    DuplicateCaseMember,
    DuplicateKey,
    DuplicateProfile,
)
from server.models.entity_lists import EntityListCache
from server.models.exits import ExitDecision, PovertyExit
from server.models.exports import ExportJob, ExportStatus
from server.models.forms import Form, FormMedia, FormState, FormVersion
from server.models.households import (
    Household,
    HouseholdConflict,
    HouseholdStatus,
    HouseholdVersion,
    PendingHouseholdUpdate,
)
from server.models.monitoring import (
    AgencyVisit,
    AgencyVisitPlan,
    FlagState,
    FlagSubject,
    MonitoringFlag,
    VisitEvidence,
)
from server.models.people import Device, Role, User, WebSession, user_scope
from server.models.places import AdminUnit, UnitLevel
from server.models.programme import (
    Agency,
    AgencyAssignment,
    AgencyKind,
    AgencyLevel,
    Pair,
    UnitCategory,
)
from server.models.rebuild import RebuildCheckpoint, RebuildDifference
from server.models.reviews import (
    CampaignKind,
    CampaignStage,
    EntryReason,
    HouseholdYearStatus,
    ReviewCampaign,
    ReviewEntry,
)
from server.models.storage import Blob
from server.models.submissions import (
    SUBMISSION_INSTANCES,
    Attachment,
    QuarantineItem,
    ReviewState,
    Submission,
    SubmissionPayload,
    instance_is,
)
from server.models.support import (
    LoanRepayment,
    SupportCategory,
    SupportEntry,
    SupportKind,
    SupportSource,
)
from server.models.uploads import UploadSession

__all__ = [
    "SUBMISSION_INSTANCES",
    "AdminUnit",
    "Agency",
    "AgencyAssignment",
    "AgencyKind",
    "AgencyLevel",
    "AgencyVisit",
    "AgencyVisitPlan",
    "AnswerFingerprint",
    "Attachment",
    "AuditEvent",
    "Base",
    "Blob",
    "CampaignKind",
    "CampaignStage",
    "CaseStatus",
    "Change",
    "Device",
    "DoubleEntry",
    "DoubleEntryStatus",
    "DuplicateCase",
    "DuplicateCaseMember",
    "DuplicateKey",
    "DuplicateProfile",
    "EntityListCache",
    "EntryReason",
    "ExitDecision",
    "ExportJob",
    "ExportStatus",
    "FlagState",
    "FlagSubject",
    "Form",
    "FormMedia",
    "FormState",
    "FormVersion",
    "Household",
    "HouseholdConflict",
    "HouseholdStatus",
    "HouseholdVersion",
    "HouseholdYearStatus",
    "LoanRepayment",
    "MonitoringFlag",
    "Pair",
    "PendingHouseholdUpdate",
    "PovertyExit",
    "QuarantineItem",
    "RebuildCheckpoint",
    "RebuildDifference",
    "ReviewCampaign",
    "ReviewEntry",
    "ReviewState",
    "Role",
    "Submission",
    "SubmissionPayload",
    "SupportCategory",
    "SupportEntry",
    "SupportKind",
    "SupportSource",
    "UnitCategory",
    "UnitLevel",
    "UploadSession",
    "User",
    "VisitEvidence",
    "WebSession",
    "instance_is",
    "user_scope",
]
