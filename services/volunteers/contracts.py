"""What other processes may see of the volunteers service: command names, events, ids."""

from __future__ import annotations

import uuid

from services.common.ids import derived_id

SERVICE = "volunteers"

# commands (arq job names on the volunteers queue)
CREATE_SHIFT = "create_shift"
SIGN_UP_FOR_SHIFT = "sign_up_for_shift"
CHECK_IN = "check_in"
CHECK_OUT = "check_out"
UNDO_CHECK_OUT = "undo_check_out"
CORRECT_SERVICE_HOURS = "correct_service_hours"
RECORD_SKILL = "record_skill"
UPDATE_VOLUNTEER_PROFILE = "update_volunteer_profile"
REGISTER_PARTY_MEMBER = "register_party_member"
CREATE_PARTNER_ORGANISATION = "create_partner_organisation"
ADD_PARTNER_MEMBER = "add_partner_member"
REVIEW_PARTY_MEMBER = "review_party_member"
WITHDRAW_FROM_SHIFT = "withdraw_from_shift"
ISSUE_CERTIFICATE = "issue_certificate"
REVOKE_CERTIFICATE = "revoke_certificate"
REQUEST_RECORD_CORRECTION = "request_record_correction"
DECIDE_RECORD_CORRECTION = "decide_record_correction"
CONFIRM_SERVICE_RECORDS = "confirm_service_records"

# deferred jobs (arq, on the volunteers queue)
CLOSE_FORGOTTEN_CHECK_INS_OF_SHIFT = "close_forgotten_check_ins_of_shift"  # at the shift's end
CLOSE_FORGOTTEN_CHECK_INS = "close_forgotten_check_ins"  # the sweep

# events (outbox types)
SHIFT_SIGNED_UP = "shift.signed_up"
VOLUNTEER_CHECKED_IN = "volunteer.checked_in"
VOLUNTEER_CHECKED_OUT = "volunteer.checked_out"
CHECK_OUT_UNDONE = "volunteer.check_out_undone"
SERVICE_HOURS_CORRECTED = "service_hours.corrected"
SHIFT_WITHDRAWN = "shift.withdrawn"  # a volunteer withdrew before the cut-off: the organiser hears
PARTY_MEMBER_REVIEWED = "party_member.reviewed"  # 双报到 approved or declined: the member hears
CERTIFICATE_ISSUED = "certificate.issued"
CERTIFICATE_REVOKED = "certificate.revoked"  # the holder hears
RECORD_CORRECTION_DECIDED = "record_correction.decided"  # accepted or declined: the volunteer hears

_ID_NAMESPACE = uuid.UUID("2b0c5a8e-7d41-4f0e-8c3b-6a9e1f2d4c57")


def id_for(kind: str, actor_id: str, idempotency_key: str) -> uuid.UUID:
    """What a command creates, named by who asked and their idempotency key (see derived_id)."""
    return derived_id(_ID_NAMESPACE, kind, actor_id, idempotency_key)
