"""Campaigns (broadcasts): an approved template to an audience of opted-in citizens."""
