"""Developer tools that run beside factorstack and never import it."""
