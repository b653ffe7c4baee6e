DROP TABLE booking_refs;
