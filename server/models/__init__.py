"""The database tables, split by domain. Importing this package registers them all."""

from server.models.audit import AuditEvent, Change
from server.models.base import Base
from server.models.forms import Form, FormMedia, FormState, FormVersion
from server.models.households import (
    Household,
    HouseholdStatus,
    HouseholdVersion,
    PendingHouseholdUpdate,
)
from server.models.people import Device, Role, User, user_scope
from server.models.places import AdminUnit, Agency, UnitLevel, agency_units
from server.models.submissions import (
    Attachment,
    QuarantineItem,
    ReviewState,
    Submission,
    SubmissionPayload,
)

__all__ = [
    "AdminUnit",
    "Agency",
    "Attachment",
    "AuditEvent",
    "Base",
    "Change",
    "Device",
    "Form",
    "FormMedia",
    "FormState",
    "FormVersion",
    "Household",
    "HouseholdStatus",
    "HouseholdVersion",
    "PendingHouseholdUpdate",
    "QuarantineItem",
    "ReviewState",
    "Role",
    "Submission",
    "SubmissionPayload",
    "UnitLevel",
    "User",
    "agency_units",
    "user_scope",
]
