DROP TABLE application_messages;
DROP TABLE shop_applications;
DROP TABLE convention_settings;
DROP TABLE charters;
