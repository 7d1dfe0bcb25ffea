# English messages of compo-exchange's validator.
#
# An id is the stable code with its dots turned into dashes, with a suffix when the code has
# several texts. Every message here exists in ru.ftl too, with the same arguments (a unit test
# compares them). Messages are written for the person who fixes the export, usually a 1C
# programmer: the field, the value found, what is expected, what to change.

## Encodings and the file as a whole

encoding-invalid-utf16 = the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8
encoding-invalid-nul = the file contains NUL bytes: it is UTF-16 or binary, not text; save it as UTF-8
encoding-invalid-utf8 = the file is not valid UTF-8 at line { $line } (byte offset { $offset }), and the configuration says it is UTF-8 (validation.encoding = "utf-8"); save it as UTF-8, or set validation.encoding to "auto" or "windows-1251"
encoding-invalid-windows1251 = the file is not valid Windows-1251 either (byte { $byte } at line { $line }); save it as UTF-8
encoding-invalid-guess = the file is not UTF-8, and it does not read as Russian text in Windows-1251: it looks like { $encoding }. Save it as UTF-8 (in 1C: ЗаписьТекста with КодировкаТекста.UTF8), or set validation.encoding = "windows-1251" if it really is Windows-1251
encoding-invalid-utf8-mixed = the file starts in UTF-8, but line { $line } (byte offset { $offset }) has bytes that are not UTF-8: parts of it were saved in different encodings; save the whole file as UTF-8 (in 1C: ЗаписьТекста with КодировкаТекста.UTF8)
encoding-invalid-mixed = the file reads as Windows-1251, but { $count } places in it are Cyrillic letters in UTF-8: parts of it were saved in different encodings; save the whole file as UTF-8 (in 1C: ЗаписьТекста with КодировкаТекста.UTF8)
file-empty = the file is empty
report-truncated = { $count ->
    [one] { $count } more error is not listed; fix these and validate again
   *[other] { $count } more errors are not listed; fix these and validate again
}
name-unknown_type = "{ $name }" is not a data file name of the protocol; names are <type>.json, <type>.delta.json or <type>.delta-<label>.json with a type of the protocol, spelled exactly
name-unknown_type-hint = "{ $name }" is not a data file name of the protocol (did you mean "{ $suggestion }"?); names are <type>.json, <type>.delta.json or <type>.delta-<label>.json with a type of the protocol, spelled exactly
io-error = { $file } could not be read: { $error }
io-error-permissions = { $file } could not be read: { $error }; check the file's permissions
io-error-not-regular = { $file } is not a regular file (a directory or a device); remove it
file-not_regular = "{ $file }" is { $kind ->
    [link] a symbolic link
    [fifo] a FIFO (named pipe)
    [socket] a socket
    [device] a device
    [folder] a folder
   *[other] not a regular file
}, not a file; links are never followed and only files are taken. Write the file itself there (under a temporary name, then rename it)
file-not_regular-out = "{ $file }" in out/ is a folder, not a file; it was moved to out/archive/
file-vanished = "{ $file }" vanished from the outbox before it could be taken; nothing was published. If it was meant to be sent, write it again
name-too_long = the name "{ $file }" is { $length } bytes long; names of at most { $max } bytes are taken (a short label such as products.delta-20261130.json is enough)
io-error-changed = "{ $file }" changed after it was taken ({ $then } bytes when taken, { $now } now): a writer still had it open. Write the file under a temporary name and rename it when done
io-error-lost-type = "{ $file }": the journal lost its type while publishing; drop the file into the outbox again

## JSON structure

json-not_array-object = the file holds one JSON object; a data file is an array of records: wrap the records in [ ]
json-not_array-scalar = the file holds a single JSON value; a data file is an array of records
json-syntax-expected-array = line { $line }, column { $column }: expected '[' but found { $found }
json-syntax-trailing-comma-records = line { $line }, column { $column }: trailing comma after the last record; remove it
json-syntax-after-record = line { $line }, column { $column }: expected ',' or ']' after record { $index } but found { $found }
json-syntax-truncated = line { $line }, column { $column }: the file ends before the closing ']': it is truncated; send it again
json-syntax-after-close = line { $line }, column { $column }: { $found } after the closing ']'; remove it
json-syntax-record-start = line { $line }, column { $column }: unexpected { $found } where record { $index } should start
json-syntax-record-start-comment = line { $line }, column { $column }: unexpected { $found } where record { $index } should start (JSON has no comments: remove it)
json-syntax-truncated-record = line { $line }, column { $column }: the file ends inside record { $index }: it is truncated; send it again
json-syntax = line { $line }, column { $column }: { $problem }; the file must be strict JSON (no comments, trailing commas or NaN)
json-syntax-quote = line { $line }, column { $column }: a double quote inside a text value ends it too early; write a quote inside text as \" (for example "ООО \"Ромашка\"")
json-syntax-line-break = line { $line }, column { $column }: a line break inside a text value; JSON text cannot span lines: write the break as \n
json-syntax-control = line { $line }, column { $column }: a control character inside a text value; write it as { $escape }
json-syntax-trailing-comma = line { $line }, column { $column }: a comma before a closing bracket; remove the comma after the last element
json-syntax-comment = line { $line }, column { $column }: JSON has no comments; remove the comment
json-syntax-nan = line { $line }, column { $column }: { $found } is not a JSON number; write a number, or null when there is no value
json-syntax-single-quote = line { $line }, column { $column }: text and keys are written in double quotes ("), not single ones
json-syntax-escape = line { $line }, column { $column }: a backslash inside a text value must be doubled (\\), unless it starts an escape such as \n or \"
json-syntax-decimal-comma = line { $line }, column { $column }: a number written with a decimal comma; JSON numbers use a dot (899.90, not 899,90)
json-syntax-key = line { $line }, column { $column }: a key must be text in double quotes ("name": ...)
json-syntax-eof = line { $line }, column { $column }: the record ends too early: a closing { "}" } or ] or a value is missing
json-syntax-comma = line { $line }, column { $column }: a comma is missing between two values or fields; put one there
json-syntax-colon = line { $line }, column { $column }: a colon is missing after a key; write "key": value
json-syntax-value = line { $line }, column { $column }: a value is missing or is not JSON; write text in double quotes, a number with a dot, true, false or null
json-syntax-literal = line { $line }, column { $column }: not a JSON value; write true, false or null in full, in small letters
json-syntax-number = line { $line }, column { $column }: not a JSON number (no leading zeros, no plus sign, digits after the dot); write it like 7, -5 or 0.5
json-duplicate_key = key "{ $key }" appears twice in one object; keep one

## Keys and references

key-duplicate = the key { $key } was already used by record { $first }; keys are unique within a file: merge or remove one of them
key-duplicate-email = e-mail "{ $email }" is already used by record { $first } (e-mails are compared ignoring case); each customer needs their own
ref-missing = { $target } "{ $value }" does not exist: it is neither in this batch nor on the portal; send that { $target } record or fix the reference
ref-missing-deleted = { $target } "{ $value }" does not exist (this batch deletes it): it is neither in this batch nor on the portal; send that { $target } record or fix the reference
ref-missing-rejected = { $target } "{ $value }" does not exist on the portal ({ $file }, which has it, was rejected): it is neither in this batch nor on the portal; send that { $target } record or fix the reference
ref-missing-dropped = { $target } "{ $value }" is not on the portal, and its record in { $file } has errors, so it is not published either; fix that record in { $file } or the reference
tree-cycle = categories { $cycle } form a cycle through parent_id; the tree must have roots: break the cycle
file-missing = { $file } is neither in this batch nor on the server; put the file into { $folder }/ or fix the name
file-missing-rejected = { $file } is in the batch but was rejected (see its report); fix that file

## Whole records

snapshot-deleted = "deleted": true is only meaningful in a delta file; in a snapshot, leave the record out instead (or send it in <type>.delta.json)
snapshot-mass_delete = publishing this full snapshot would delete { $removed } of the { $published } { $type } records the portal has ({ $share }%, the limit is { $limit }%): records not listed in a full snapshot are deleted. If that is intended, run `compo-exchange release { $file }` or raise snapshot.mass_delete_by_type.{ $type } in the config; otherwise check the export's filter, or send the changes as { $type }.delta.json
normalised-published = { $file } was accepted with { $count } { $count ->
    [one] value
   *[other] values
} rewritten from what 1C writes to the canonical form ({ $codes }); the list is in its report beside the archived original. Fix the export at leisure, or set validation.strict to refuse such files
snapshot-mass_delete-empty = the file is an empty full snapshot: publishing it would delete all { $published } { $type } records the portal has. If the ERP really has none left, run `compo-exchange release { $file }`; otherwise check the export's filter
security-password_field = field "{ $field }" looks like a password; portal passwords are never transferred, users set their own: remove the field from the export

## Parties: INN, KPP, OGRN, bank accounts

inn-format-digits = INN "{ $inn }" must consist of digits only ({ $kind ->
    [legal] a legal entity has 10
    [entrepreneur] an entrepreneur has 12
    [person] a person has 12
   *[other] it has 10 (legal entity) or 12 (entrepreneur, person)
} digits); remove spaces and other characters in the ERP
inn-format-length = INN "{ $inn }" has { $length } digits, but the INN of { $kind ->
    [legal] a legal entity has 10
    [entrepreneur] an entrepreneur has 12
   *[person] a person has 12
}; check the number and the contragent's kind
inn-format-length-any = INN "{ $inn }" has { $length } digits; an INN has 10 (legal entity) or 12 (entrepreneur, person); check the number in the ERP
inn-checksum = INN "{ $inn }" has a wrong check { $count ->
    [one] digit (expected { $digits } in position { $positions })
   *[other] digits (expected { $digits } in positions { $positions })
}; check the number in the ERP
kpp-format = KPP "{ $kpp }" is not 9 characters of the form 4 digits, 2 digits or capital letters, 3 digits (like 773601001); correct it in the ERP
kpp-format-not-legal = KPP "{ $kpp }" is given, but only legal entities have a KPP and this contragent is { $kind ->
    [entrepreneur] an entrepreneur
   *[person] a person
}; remove it
ogrn-format-person = OGRN "{ $ogrn }" is given for a person, who has none (an OGRN belongs to a legal entity, an OGRNIP to an entrepreneur); remove it or correct the kind
ogrn-format = OGRN "{ $ogrn }" { $digits ->
    [yes] has { $length } digits
   *[no] is not all digits
}, but { $kind ->
    [legal] a legal entity's OGRN has 13 digits
    [entrepreneur] an entrepreneur's OGRNIP has 15 digits
   *[other] an OGRN has 13 digits, an OGRNIP 15
}; check the number and the contragent's kind
ogrn-checksum = { $length ->
    [15] OGRNIP
   *[other] OGRN
} "{ $ogrn }" has a wrong check digit (expected { $expected } in position { $length }); check the number in the ERP
account-checksum = account "{ $account }" does not match BIK "{ $bik }"; check both numbers against the bank's details
account-checksum-key = account "{ $account }" does not match BIK "{ $bik }": for this BIK its control key (digit 9) would be { $key }; check both numbers against the bank's details

## Barcodes

barcode-checksum = barcode "{ $barcode }" has a wrong check digit (expected { $expected } at the end); correct it or remove the barcode

## Sums and precision

sum-mismatch-amount = { $field } is { $amount }, but quantity × price = { $quantity } × { $price } = { $expected }; correct the amount, quantity or price in the ERP document
sum-mismatch-amount-discount = { $field } is { $amount }, but quantity × price × (1 − discount/100) = { $quantity } × { $price } × (1 − { $discount }/100) = { $expected }; correct the amount, quantity or price in the ERP document
sum-mismatch-total = total is { $total }, but the { $count } item amounts add up to { $sum }; correct the total or the item amounts
sum-mismatch-total-delivery = total is { $total }, but the { $count } item amounts add up to { $sum } plus delivery.cost { $cost } = { $expected }; correct the total or the item amounts
sum-mismatch-balance = closing_balance is { $closing }, but opening_balance { $opening } + debit { $debit } − credit { $credit } = { $expected }; correct the closing balance or the lines
number-precision = { $field } is { $value }, with { $digits } digits after the decimal point; { $kind ->
    [price] prices have
   *[money] money has
} at most { $max }: round it in the export

## Dates

date-invalid-month = { $field } "{ $value }" is not a real date: there is no month { $month }; correct it in the ERP
date-invalid-day = { $field } "{ $value }" is not a real date: { $month ->
    [1] January
    [2] February
    [3] March
    [4] April
    [5] May
    [6] June
    [7] July
    [8] August
    [9] September
    [10] October
    [11] November
   *[12] December
} { $year } has { $days } days, not { $day }; correct it in the ERP
date-invalid-hour = { $field } "{ $value }" is not a real date: there is no hour { $hour }; correct it in the ERP
date-invalid-minute = { $field } "{ $value }" is not a real date: there is no minute { $minute }; correct it in the ERP
date-invalid-second = { $field } "{ $value }" is not a real date: there is no second { $second } at minute { $minute }; correct it in the ERP
date-invalid-offset = { $field } "{ $value }" is not a real date: the UTC offset { $offset } does not exist; correct it in the ERP
date-range = { $to_field } { $to } is before { $from_field } { $from }; correct one of the dates (or swap them)

## Attached files

file-name-empty = an empty file name in { $folder }/ is not allowed
file-name-separator = "{ $name }" contains a path separator; attached files must lie directly in { $folder }/: move the file and refer to it by its bare name
file-name-control = "{ $name }" contains a control character; rename the file
file-name-hidden = "{ $name }" starts with a dot (a hidden file); rename it
file-name-dots = "{ $name }" contains ".."; rename the file without consecutive dots
file-name-character = "{ $name }" contains '{ $character }'; names may only use Latin letters, digits, '.', '_' and '-': rename the file (transliterate, replace spaces with '_')
file-name-long = "{ $name }" is { $length } characters long, more than { $max }; shorten it
file-name-no-extension = "{ $name }" has no extension; files in { $folder }/ must end in one of: { $allowed }
file-name-extension = "{ $name }" has the extension ".{ $extension }", which is not allowed in { $folder }/; allowed: { $allowed }
file-empty-attached = { $file } is empty (0 bytes); export it again
file-too_large = { $file } is { $size }, over the limit of { $limit } for { $folder }/; make the file smaller or raise { $key } in the configuration
file-magic = { $file } is { $found }, not { $expected }; re-export it or fix its extension
file-magic-unknown = { $file } does not look like { $expected } (it starts with bytes { $bytes }); re-export it or fix its extension

## Partner formats (the bridges of `convert`)

convert-unsupported = { $what } is not converted
convert-required = { $what } is required by the target format but missing from the source
convert-value = { $what } cannot be represented in the target format
xml-syntax = malformed XML: { $problem }

## JSON Schema keywords (code schema.<keyword>)

schema-required = required field "{ $field }" is missing; add it
schema-type = { $field } must be { $expected }, but it is { $found }: { $value }; write it as { $expected }
schema-type-or = { $first } or { $second }
schema-record = the record
schema-type-name = { $type ->
    [string] a string (text in quotes)
    [number] a number
    [integer] a whole number
    [boolean] true or false
    [array] an array [ ... ]
    [object] an object { "{" } ... { "}" }
   *[null] null
}
schema-type-found = { $type ->
    [string] a string
    [number] a number
    [boolean] a boolean
    [array] an array
    [object] an object
   *[null] null
}
schema-enum = { $field } is { $value }, which is not an allowed value; use one of: { $allowed }
schema-const = { $field } is { $value }; the only allowed value is { $expected }
schema-pattern = { $field } is "{ $value }", which does not fit its format: { $description }; for example { $examples }
schema-pattern-undescribed = { $field } "{ $value }" does not have the format the schema requires (its pattern has no description: see the schema file)
# What each pattern of the schemas means, for schema-pattern's $description: the schema's own
# description (a test keeps them equal), here so that the Russian sits beside it.
pattern-about-id = An identifier: 1 to 64 characters without control characters (no line breaks or tabs).
pattern-about-date = A date written YYYY-MM-DD.
pattern-about-datetime = A date and time with its offset from UTC, RFC 3339.
pattern-about-currency = An ISO 4217 currency code: three capital Latin letters.
pattern-about-country = An ISO 3166-1 alpha-2 country code: two capital Latin letters.
pattern-about-email = An e-mail address.
pattern-about-fileName = Name of an attached file, without a folder: Latin letters, digits, dot, underscore and hyphen, at most 128.
pattern-about-barcodes = A barcode of 8, 12, 13 or 14 digits (EAN-8, UPC-A, EAN-13, GTIN-14).
pattern-about-bik = Bank identification code (БИК): 9 digits.
pattern-about-account = Settlement account: 20 digits (its control key against the BIK is verified in code).
pattern-about-corr_account = The bank's correspondent account: 20 digits.
schema-minimum = { $field } is { $value }, less than the minimum { $limit }; correct the value
schema-exclusiveMinimum = { $field } is { $value }; it must be greater than { $limit }
schema-maximum = { $field } is { $value }, more than the maximum { $limit }; correct the value
schema-exclusiveMaximum = { $field } is { $value }; it must be less than { $limit }
schema-minLength = { $field } "{ $value }" is shorter than { $limit ->
    [one] { $limit } character
   *[other] { $limit } characters
}; fill it in
schema-minLength-empty = { $field } is empty; fill it in
schema-maxLength = { $field } "{ $value }" is longer than { $limit ->
    [one] { $limit } character
   *[other] { $limit } characters
}; shorten it
schema-minItems = { $field } has { $count ->
    [one] { $count } element
   *[other] { $count } elements
}, fewer than the required { $limit }; add the missing ones
schema-maxItems = { $field } has { $count ->
    [one] { $count } element
   *[other] { $count } elements
}, more than the allowed { $limit }; remove the extra ones
schema-uniqueItems = { $field } lists the same element twice; keep each once
schema-additionalProperties = { $field } has fields the schema does not allow: { $names }; remove them
schema-oneOf = { $field } must have exactly one of the fields { $names }; keep one of them
schema-oneOf-none = { $field } matches none of the alternatives the schema allows; see the schema's description of the field
schema-oneOf-many = { $field } matches more than one of the alternatives the schema allows, and must match exactly one; see the schema's description of the field
schema-other = { $field }: { $detail } (JSON Schema keyword { $keyword })

## What ERPs write instead of the canonical form (spec 4.1): normalised with a warning, or refused

date-datetime = { $field } is a date but was written as a date-time "{ $written }"; published as "{ $date }". Write dates as YYYY-MM-DD, e.g. 2026-11-20 (in 1C: Формат(Дата, "ДФ=yyyy-MM-dd"))
date-datetime-converted = { $field } is a date but was written as a date-time with an offset, "{ $written }"; published as its date in { $zone }, "{ $date }". Write dates as YYYY-MM-DD, e.g. 2026-11-20 (in 1C: Формат(Дата, "ДФ=yyyy-MM-dd"))
date-datetime-time = { $field } is a date but was written as a date-time "{ $written }" whose time is not midnight ({ $time }); published as "{ $date }", without the time: check that the export writes the date you mean, as YYYY-MM-DD
date-datetime-converted-time = { $field } is a date but was written as a date-time with an offset, "{ $written }", which is { $time } in { $zone }, not midnight; published as "{ $date }", without the time: check that the export writes the date you mean, as YYYY-MM-DD
datetime-no_offset = { $field } "{ $written }" has no time-zone offset; published as "{ $published }", taken in { $zone } (validation.timezone). Write the offset, e.g. 2026-11-20T09:30:00+03:00 (in 1C: ВариантЗаписиДатыJSON.ЛокальнаяДатаСоСмещением)
date-empty = { $field } holds 1C's empty date "{ $written }"; the field is left out. Leave empty dates out of the export
value-null = { $field } is null; the field is left out (null and no field mean the same). Leave empty fields out of the export
ref-empty = { $field } is an empty reference (""); the field is left out. Leave empty references out of the export (check ЗначениеЗаполнено)
ref-empty-guid = { $field } is 1C's empty reference (00000000-0000-0000-0000-000000000000); the field is left out. Leave empty references out of the export (check ЗначениеЗаполнено)
value-empty = { $field } is empty (""); the field is left out. Leave empty fields out of the export
value-empty-guid = { $field } is 1C's empty reference (00000000-0000-0000-0000-000000000000); the field is left out. Leave empty values out of the export (check ЗначениеЗаполнено)
value-required_empty-date = 1C's empty date in { $field }: the field is required, fill it in the ERP
value-required_empty-guid = 1C's empty reference (00000000-0000-0000-0000-000000000000) in { $field }: the field is required, fill it in the ERP
value-required_empty-string = an empty value "" in { $field }: the field is required, fill it in the ERP
value-required_empty-null = null in { $field }: the field is required, fill it in the ERP
value-blank = { $field } is required but blank ("{ $written }"): fill it in the ERP
vat-fraction = { $field } is { $value }: a fraction where a percent is expected (20 means 20%); if { $percent }% is meant, write { $percent }
id-whitespace = { $field } "{ $written }" starts or ends with a space, which is part of the id: a reference written without it will not find this record; trim it in the export (СокрЛП)
file-size-bytes = { $bytes } bytes
file-size = { $amount } { $unit } ({ $bytes } bytes)
file-kind = { $kind ->
    [jpeg] a JPEG image
    [png] a PNG image
    [gif] a GIF image
    [webp] a WebP image
    [bmp] a BMP image
    [tiff] a TIFF image
    [heic] a HEIC image
    [avif] an AVIF image
    [mp4] an MP4/QuickTime video
    [pdf] a PDF
    [xml] an XML document
    [html] an HTML page
    [text] plain text
    [xlsx] an Excel workbook (xlsx)
    [docx] a Word document (docx)
    [xls] an Excel 97-2003 workbook (xls)
    [doc] a Word 97-2003 document (doc)
    [zip] a ZIP archive
    [zip-or-office] a ZIP archive (or an xlsx/docx document)
    [ole] a legacy Office document (xls/doc)
    [gzip] a gzip archive
    [rar] a RAR archive
    [sevenzip] a 7-Zip archive
   *[other] a file of this type
}

## Text output of `validate`

output-error = error
output-warning = warning
output-record = record { $record } at { $pointer }
output-summary = { $files ->
    [one] { $files } file
   *[other] { $files } files
}, { $records ->
    [one] { $records } record
   *[other] { $records } records
}: { $valid } valid, { $invalid } invalid, { $errors ->
    [one] { $errors } error
   *[other] { $errors } errors
}

## Status page of `run --http` (src/observe/page.rs)

page-title = compo-exchange status
page-work-folder = Work folder
page-server = Exchange server
page-updated = Updated
page-refresh-note = refreshes every 10 s
page-no-journal = No journal yet: nothing has run in this work folder.
page-health = Health
page-component = Component
page-condition = Condition
page-since = Since
page-last-success = Last success
page-ok = ok
page-failing = failing
page-no-health = No failures recorded.
page-warnings = Warnings
page-topic = About
page-message = Message
page-types = Publishing by type
page-data-type = Type
page-schedule = Schedule
page-last-publish = Last publish
page-next-tick = Next tick
page-waiting = Waiting
page-retrying = Retrying
page-rejected-24h = Rejected 24 h
page-at-every-check = at every check
page-never = never
page-retrying-files = Files being retried
page-file = File
page-state = State
page-attempts = Attempts
page-last-error = Last error
page-next-attempt = Next attempt
page-failing-since = Failing since
page-none-retrying = No file is being retried.
page-waiting-files = Files waiting for their tick
page-staged-at = Staged at
page-none-waiting = No file is waiting.
page-rejections = Rejections
page-rejections-note = last 7 days, newest first
page-when = When
page-outcome = Outcome
page-first-error = First error
page-report = Report
page-open-report = report
page-report-gone = report no longer kept
page-report-gone-hint = removed from rejected/ by rejected.keep_days, or by a release
page-rejected = rejected
page-held = held
page-and-more = more
page-none-rejected = No file was rejected in the last 7 days.
page-held-hint = held by the mass-deletion guard: compo-exchange release NAME lets it through
page-collection = Inbound collection (out/)
page-last-collect = Last collect
page-last-delivered = Last delivered
page-delivered-24h = Delivered 24 h
page-attached = Attached files
page-folder = Folder
page-on-server = On the server
page-files = files
page-progress = Sync
page-running = running
page-finished = finished
page-attached-rejected = Rejected attached files
page-other-language = По-русски
file-skipped = skipped: not a data file of the protocol (a .json name) nor an attached file under pictures/ or invoices/
folder-not_walked = the sub-folder holds { $count ->
    [one] a data file
   *[other] { $count } data files
} ({ $example }) that { $count ->
    [one] was
   *[other] were
} not validated: sub-folders are batches of their own, validated with --recursive (or left out with --exclude)
input-no_data = no data file found in { $paths }: nothing was validated. Data files are named <type>.json (products.json, prices.delta.json) at the top of a folder, attached files lie in its pictures/ and invoices/{ $recursive ->
    [yes] ; --recursive looked in every sub-folder too: check the names and what --exclude leaves out
   *[no] ; for files in sub-folders add --recursive
}
