//! The dispatcher: dials due contacts within every limit a campaign sets.
