//! Sellper (XML REST API) documents to COMPO data files and COMPO orders to Sellper XML.
