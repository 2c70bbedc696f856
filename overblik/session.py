"""Keys of what a citizen's server-side session holds (never sent to the browser)."""

CPR = "overblik_cpr"
NAME = "overblik_name"
# The NSIS assurance level the citizen logged in with (the broker's claim value): whether
# their own sensitive case titles are shown (issue 15).
ASSURANCE = "overblik_assurance"
CITIZEN_ID = "overblik_citizen_id"
# Changes after this moment are marked "new since your last visit" (ISO timestamp or None).
SINCE = "overblik_since"
LOGIN_AT = "overblik_login_at"
LAST_ACTIVITY = "overblik_last_activity"
# Set on a fresh session after a login failed or a session ran out; shown once.
LOGIN_ERROR = "overblik_login_error"
EXPIRED = "overblik_expired"

# How often (seconds) a session's last activity is written: the idle timeout is
# enforced to within this, without one write per request.
TOUCH_INTERVAL = 60

# Acting for someone else (issue 15): whose data the pages show (a CPR number, kept
# server-side only), and this session's opaque handles for the people the citizen may
# act for ({handle: CPR}); the switcher posts a handle, never a CPR number.
ACTING_CPR = "overblik_acting_cpr"
ACTING_HANDLES = "overblik_acting_handles"
# Shown once: acting for someone ended because the relation is gone or its service is down.
ACTING_ENDED = "overblik_acting_ended"
