// KopiaTestSupport: test doubles and fixtures for the tests (never in products).
