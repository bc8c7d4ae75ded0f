"""Blueprints, one per area of the interface."""
