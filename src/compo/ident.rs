//! Russian and GS1 identifiers: INN, OGRN/OGRNIP, KPP, bank accounts against BIK, barcodes.
