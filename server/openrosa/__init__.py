"""OpenRosa 1.0 for ODK Collect, Enketo and ODK Web Forms: the adapter that owns the protocol.

Routes (each also under `/key/<token>/`, the device-token server URL):

    GET  /formList                                          form list (?formID=)
    GET  /forms/<form_id>/versions/<version>/form.xml       the XForm
    GET  /forms/<form_id>/versions/<version>/manifest       media and entity lists
    GET  /forms/<form_id>/versions/<version>/media/<file>   a media file or entity list CSV
    GET  /datasets/<dataset>/integrity?id=a,b               which entities were deleted
    HEAD /submission                                        204
    POST /submission                                        multipart submission

Every response carries `X-OpenRosa-Version: 1.0`, `Date`, `Content-Language`
and `X-OpenRosa-Accept-Content-Length`; every request must carry
`X-OpenRosa-Version: 1.0`. Errors are `<OpenRosaResponse>` envelopes with a
message for the officer in Vietnamese or English (Accept-Language).
"""

from server.openrosa import views  # noqa: F401 - registers the routes on `bp`
from server.openrosa.blueprint import bp

__all__ = ["bp"]
