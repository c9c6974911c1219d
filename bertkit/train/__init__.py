"""Model loading and the training runtime: precision, launch checks, optimiser knobs, ordering, progress, GPU check."""
