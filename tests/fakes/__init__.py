"""Fakes shared by every test package: real classes that speak real wire formats."""
