"""Reporting: the terminal summary, and later JSON, JUnit and Allure output."""
