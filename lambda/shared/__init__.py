"""Modules shared by the Lambda handlers: region list, active-region filter, cross-account helpers, responses."""
