"""Outbound notifications: e-mail and alert delivery."""
