//! Browser tests: one complete journey per user group in headless Chromium (fantoccini +
//! chromedriver), over the real stack, with a screenshot of every step under
//! `tests/artifacts/<journey>/` and an axe-core check (WCAG 2.x A/AA) of every page.

mod harness;
mod privacy_officer;
mod school;
mod services;
mod vve;
mod youth_team;
