-- An attendance's messages are found through its offers (GET /attendances/{id}/notifications).
CREATE INDEX notifications_offer ON notifications (offer_id);
