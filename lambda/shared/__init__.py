"""Modules shared by the Lambda handlers. Importing the package keeps credentials out of SDK debug logs."""

from shared import log_redaction

log_redaction.install()
