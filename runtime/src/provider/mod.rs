//! Providers: the simulated provider and provider-adapter plugins.
