"""Identity: residents (log-in by SMS code, profile, household), staff accounts (password,
roles per community or per street), the tokens that carry them, and the directory of places
(streets, communities, grids, stations: ``directory``) that gives community ids their names.

Identity is owned by the gateway process, not by a worker behind a queue: log-in must answer
synchronously, and the gateway is where tokens are checked on every request, so the gateway
calls ``service.Identity`` directly (``domain`` holds the pure rules, ``repository`` the SQL of
schema ``identity``, ``queries`` the read models). Only the SMS carrying a login code goes
through the notify queue, as an urgent ``send_sms`` job.
"""
