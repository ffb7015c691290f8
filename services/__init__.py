"""The controller services of the LBaaS control plane."""
