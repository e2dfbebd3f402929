"""Articles as read: the readers, Article/Paragraph, junk rules, passage views and lexical words."""
