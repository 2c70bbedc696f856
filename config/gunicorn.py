"""gunicorn's settings in production: ``gunicorn config.wsgi:application -c python:config.gunicorn``.

docker-compose.yml's web service and the Dockerfile's CMD start it so. Its access
log (stdout) and error log pass the CPR filter, as every log of the project does
(config/logging.py): a CPR number in a path or a query (``?cpr=``) is ``[CPR]``.
https://docs.gunicorn.org/en/stable/settings.html
"""

from urllib.parse import unquote

from gunicorn.glogging import Logger

from config.logging import RedactCprFilter, redact_cpr

bind = "0.0.0.0:8000"
workers = 3
accesslog = "-"


class CprRedactingLogger(Logger):
    """gunicorn's logger with the CPR filter on its error and access loggers.

    The filter sits on the loggers, so it holds for any handler (gunicorn's own,
    ``logconfig_dict``'s, syslog's). The access line's request, path, query and
    referer are also redacted in their percent-decoded form (``010170%2D1234``).
    """

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactCprFilter) for f in log.filters):
                log.addFilter(RedactCprFilter())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str) and "%" in value:
                decoded = unquote(value)
                if redact_cpr(decoded) != decoded:
                    atoms[key] = redact_cpr(decoded)
        return atoms


logger_class = CprRedactingLogger
