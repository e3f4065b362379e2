"""Retention schedules (the agency's file plan) and disposition with certificates."""
