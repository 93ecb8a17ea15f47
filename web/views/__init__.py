"""Blueprints: public (speakers), api (JSON), auth, editor, admin."""
