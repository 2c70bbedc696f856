"""Keys of what a citizen's server-side session holds (never sent to the browser)."""

CPR = "overblik_cpr"
NAME = "overblik_name"
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
