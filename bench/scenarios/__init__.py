"""The scenarios: each drives one freshly started system and returns named numbers."""
