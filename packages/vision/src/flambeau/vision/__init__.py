"""flambeau.vision: datasets, transforms, models and a reference trainer."""
