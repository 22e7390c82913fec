"""Reading Swedish: lemmas, actors, passage kinds, levels, personal data and reported figures."""
