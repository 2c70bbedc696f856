"""A local SMS gateway for the demo and the tests: ``python -m simulators.sms --port 9426``.

Speaks what ``overblik.notifications.channels.HttpSms`` sends: ``POST /sms`` with
JSON ``{to, from, text}`` and an ``Idempotency-Key`` header; a repeated key gets the
first answer and no second SMS. A number ending in ``0000`` does not exist (422,
``invalid_number``: a hard bounce). ``GET /messages`` lists what was sent;
``DELETE /messages`` empties it.
"""
