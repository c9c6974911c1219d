"""Tools around the training scripts: the GPU check's report and judge, which model a laptop script runs."""
