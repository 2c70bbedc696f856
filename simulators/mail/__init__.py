"""A local SMTP server for the demo and the tests (aiosmtpd), with a page of what arrived.

``python -m simulators.mail --smtp-port 9425 --http-port 9427`` — started by
``make run`` (scripts/serve) and by the tests (tests/plugins/outside.py). It keeps
every message it accepts, collapsing equal Message-IDs as large mail systems do
(a retry of a message already delivered is the same message), and refuses for good
(550) any recipient whose local part starts with ``bounce`` — a hard bounce. The
HTTP side shows the received mails (``/``) and gives them as JSON (``/messages``);
``DELETE /messages`` empties the box.
"""
