"""Notify: every event reaches the right people on the channels they chose, on time, once.

- ``handle_events`` takes a batch of other services' events. In one transaction it marks each
  event consumed, updates notify's own picture of sign-ups (``notify.signups``,
  ``notify.shift_signups``: notify never reads another service's schema), writes the in-app
  inbox messages, and plans one ``notify.deliveries`` row per chosen channel (SMS, WeChat,
  e-mail) and for the partner webhook. The inbox is not a channel adapter: written with the
  event it is always on and exactly once. While the command streams are busy (a sign-up burst)
  non-urgent events are only marked consumed and kept in ``notify.deferred_events``; the
  worker's ``drain_deferred`` loop handles them in batches once the burst is over
  (``deferral.py``: the policy, the bound, which events are urgent).
- Each delivery is an arq ``deliver`` job named by the row's deterministic id, enqueued before
  the commit and deferred to the end of the person's quiet hours unless urgent. Failures are
  retried with exponential backoff and jitter (arq ``Retry``; attempts counted in the row, so
  a rate-limited try is not a failure) until ``notify_max_attempts``, then the row is DEAD: a
  dead letter organisers see (``deadLetters``) and re-send (``resendDelivery``). Each row
  keeps the community its event names (``community_id``): organisers see and re-send only
  their own communities' deliveries, platform admins every one.
- Organisers word the messages about sign-ups (and their reminders) their own way for one
  festival's sessions in their community (``setMessageTemplate``, ``notify.message_templates``).
  templates.py holds the defaults and the named placeholders each kind offers; an override is
  checked before it is stored and rendered with ``format_map`` over plain strings only.
- Reminders (24 h and 2 h before) are deferred ``send_reminder`` jobs that re-check, at send
  time, that the sign-up is still confirmed and its start unchanged.
- Redis holds the deferred jobs; a sweep (``requeue_pending``, started at most every five
  minutes by incoming events) puts back overdue deliveries and reminders due soon if Redis
  lost them.
- With no provider configured (development) a channel only records: the delivery row, marked
  sent by ``dev-outbox``, is the message the console shows. Log-in codes skip the tables: they
  go at once to the SMS provider, or to ``notify.sms_outbox`` in development.
"""
