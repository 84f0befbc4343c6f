-- A file's retention starts when it is drafted (issue 17 item 10): a file never confirmed (a
-- draft, consent still open, sent but never received) would otherwise keep its key forever. The
-- confirmation moves the start to the confirmation date. Its own follow-up mark, so that a
-- registered draft does not hide a confirmation whose registration still has to be retried.
ALTER TABLE privacy_requests_done DROP CONSTRAINT privacy_requests_done_action_check;
ALTER TABLE privacy_requests_done ADD CONSTRAINT privacy_requests_done_action_check
    CHECK (action IN ('erase', 'retention', 'retention-opgesteld'));
