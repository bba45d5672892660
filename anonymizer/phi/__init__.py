"""Is this text PHI? Header hints, patterns, allow-list, optional NER."""
