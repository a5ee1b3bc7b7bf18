"""Settings: their schema, the TOML files they come from, and how flags override them."""
