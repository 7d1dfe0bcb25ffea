# Сообщения валидатора compo-exchange на русском.
#
# Идентификатор — стабильный код с дефисами вместо точек, с суффиксом, когда у кода несколько
# текстов. Каждое сообщение есть и в en.ftl, с теми же аргументами (это проверяет тест).
# Пишем для того, кто исправляет выгрузку, обычно программиста 1С: какое поле, что в нём
# найдено, что ожидается и что поменять.

## Кодировки и файл целиком

encoding-invalid-utf16 = файл в UTF-16 (начинается с метки порядка байтов UTF-16); сохраните его в UTF-8
encoding-invalid-nul = в файле есть нулевые байты: это UTF-16 или двоичный файл, а не текст; сохраните его в UTF-8
encoding-invalid-utf8 = в строке { $line } (смещение { $offset } байт) файл не в UTF-8, а в настройках указана кодировка UTF-8 (validation.encoding = "utf-8"); сохраните файл в UTF-8 или укажите validation.encoding = "auto" либо "windows-1251"
encoding-invalid-windows1251 = файл не читается и как Windows-1251 (байт { $byte } в строке { $line }); сохраните его в UTF-8
encoding-invalid-guess = файл не в UTF-8 и не читается как русский текст в Windows-1251: похоже, это { $encoding }. Сохраните его в UTF-8 (в 1С: ЗаписьТекста с КодировкаТекста.UTF8) или, если это действительно Windows-1251, укажите validation.encoding = "windows-1251"
encoding-invalid-utf8-mixed = файл начинается в UTF-8, но в строке { $line } (смещение { $offset } байт) есть байты не в UTF-8: части файла сохранены в разных кодировках; сохраните весь файл в UTF-8 (в 1С: ЗаписьТекста с КодировкаТекста.UTF8)
encoding-invalid-mixed = файл читается как Windows-1251, но в { $count ->
    [one] { $count } месте
   *[other] { $count } местах
} в нём русские буквы в UTF-8: части файла сохранены в разных кодировках; сохраните весь файл в UTF-8 (в 1С: ЗаписьТекста с КодировкаТекста.UTF8)
file-empty = файл пуст
report-truncated = { $count ->
    [one] ещё { $count } ошибка не показана; исправьте эти и проверьте файл снова
    [few] ещё { $count } ошибки не показаны; исправьте эти и проверьте файл снова
   *[other] ещё { $count } ошибок не показаны; исправьте эти и проверьте файл снова
}
name-unknown_type = «{ $name }» — не имя файла данных протокола; имена файлов: <тип>.json, <тип>.delta.json или <тип>.delta-<метка>.json, где тип — один из типов протокола, написанный в точности
name-unknown_type-hint = «{ $name }» — не имя файла данных протокола (может быть, «{ $suggestion }»?); имена файлов: <тип>.json, <тип>.delta.json или <тип>.delta-<метка>.json, где тип — один из типов протокола, написанный в точности
io-error = не удалось прочитать { $file }: { $error }
io-error-permissions = не удалось прочитать { $file }: { $error }; проверьте права доступа к файлу
io-error-not-regular = { $file } — не обычный файл (каталог или устройство); уберите его
file-not_regular = «{ $file }» — { $kind ->
    [link] символическая ссылка
    [fifo] именованный канал (FIFO)
    [socket] сокет
    [device] устройство
    [folder] каталог
   *[other] не обычный файл
}, а не файл; по ссылкам обработка не переходит и берёт только файлы. Положите туда сам файл (под временным именем, затем переименуйте)
file-not_regular-out = «{ $file }» в out/ — каталог, а не файл; он перенесён в out/archive/
file-vanished = «{ $file }» исчез из outbox, прежде чем его успели взять; ничего не опубликовано. Если файл нужно отправить, запишите его снова
name-too_long = имя «{ $file }» длиной { $length } байт; берутся имена не длиннее { $max } байт (достаточно короткой метки, например products.delta-20261130.json)
io-error-changed = «{ $file }» изменился после того, как его взяли ({ $then } байт тогда, { $now } сейчас): запись в него ещё шла. Записывайте файл под временным именем и переименовывайте, когда запись закончена
io-error-lost-type = «{ $file }»: журнал потерял тип файла во время публикации; положите файл в outbox ещё раз

## Структура JSON

json-not_array-object = в файле один объект JSON, а файл данных — это массив записей: заключите записи в [ ]
json-not_array-scalar = в файле одно значение JSON, а файл данных — это массив записей
json-syntax-expected-array = строка { $line }, позиция { $column }: ожидалась «[», а найдено { $found }
json-syntax-trailing-comma-records = строка { $line }, позиция { $column }: лишняя запятая после последней записи; уберите её
json-syntax-after-record = строка { $line }, позиция { $column }: после записи { $index } ожидалась «,» или «]», а найдено { $found }
json-syntax-truncated = строка { $line }, позиция { $column }: файл кончается до закрывающей «]» — он обрезан; отправьте его заново
json-syntax-after-close = строка { $line }, позиция { $column }: { $found } после закрывающей «]»; уберите это
json-syntax-record-start = строка { $line }, позиция { $column }: неожиданный символ { $found } там, где должна начинаться запись { $index }
json-syntax-record-start-comment = строка { $line }, позиция { $column }: неожиданный символ { $found } там, где должна начинаться запись { $index } (в JSON нет комментариев: уберите его)
json-syntax-truncated-record = строка { $line }, позиция { $column }: файл кончается внутри записи { $index } — он обрезан; отправьте его заново
json-syntax = строка { $line }, позиция { $column }: { $problem }; файл должен быть строгим JSON (без комментариев, лишних запятых и NaN)
json-syntax-quote = строка { $line }, позиция { $column }: двойная кавычка внутри текста закрывает его раньше времени; кавычку внутри текста пишите как \" (например, "ООО \"Ромашка\"")
json-syntax-line-break = строка { $line }, позиция { $column }: перевод строки внутри текста; в JSON текст не может занимать несколько строк: запишите перевод строки как \n
json-syntax-control = строка { $line }, позиция { $column }: управляющий символ внутри текста; запишите его как { $escape }
json-syntax-trailing-comma = строка { $line }, позиция { $column }: запятая перед закрывающей скобкой; уберите запятую после последнего элемента
json-syntax-comment = строка { $line }, позиция { $column }: в JSON нет комментариев; уберите комментарий
json-syntax-nan = строка { $line }, позиция { $column }: { $found } — не число JSON; запишите число или null, если значения нет
json-syntax-single-quote = строка { $line }, позиция { $column }: текст и ключи пишутся в двойных кавычках ("), а не в одинарных
json-syntax-escape = строка { $line }, позиция { $column }: обратную косую черту внутри текста нужно удваивать (\\), если она не начинает последовательность вроде \n или \"
json-syntax-decimal-comma = строка { $line }, позиция { $column }: число записано с десятичной запятой; в JSON дробную часть отделяют точкой (899.90, а не 899,90)
json-syntax-key = строка { $line }, позиция { $column }: ключ должен быть текстом в двойных кавычках ("name": ...)
json-syntax-eof = строка { $line }, позиция { $column }: запись обрывается: не хватает закрывающей { "}" } или ] либо значения
json-syntax-comma = строка { $line }, позиция { $column }: между двумя значениями или полями не хватает запятой; поставьте её
json-syntax-colon = строка { $line }, позиция { $column }: после ключа не хватает двоеточия; пишите "ключ": значение
json-syntax-value = строка { $line }, позиция { $column }: значения нет или оно не в формате JSON; пишите текст в двойных кавычках, числа с точкой, true, false или null
json-syntax-literal = строка { $line }, позиция { $column }: это не значение JSON; пишите true, false или null полностью и строчными буквами
json-syntax-number = строка { $line }, позиция { $column }: это не число JSON (без ведущих нулей, без знака плюс, с цифрами после точки); пишите так: 7, -5 или 0.5
json-duplicate_key = ключ «{ $key }» дважды встречается в одном объекте; оставьте один

## Ключи и ссылки

key-duplicate = ключ { $key } уже занят записью { $first }; ключи в файле уникальны: объедините записи или удалите одну из них
key-duplicate-email = e-mail «{ $email }» уже указан у записи { $first } (адреса сравниваются без учёта регистра); у каждого покупателя должен быть свой
ref-missing = в { $target } нет записи «{ $value }»: её нет ни в этой выгрузке, ни на портале; выгрузите эту запись в { $target } или исправьте ссылку
ref-missing-deleted = в { $target } нет записи «{ $value }» (эта выгрузка её удаляет): её нет ни в этой выгрузке, ни на портале; выгрузите эту запись в { $target } или исправьте ссылку
ref-missing-rejected = записи «{ $value }» из { $target } нет на портале (файл { $file }, где она есть, отклонён): её нет ни в этой выгрузке, ни на портале; выгрузите эту запись в { $target } или исправьте ссылку
ref-missing-dropped = записи «{ $value }» из { $target } нет на портале, а её запись в { $file } с ошибками и тоже не публикуется; исправьте эту запись в { $file } или ссылку
tree-cycle = категории { $cycle } образуют цикл по parent_id; у дерева должны быть корни: разорвите цикл
file-missing = файла { $file } нет ни в этой выгрузке, ни на сервере; положите файл в { $folder }/ или исправьте имя
file-missing-rejected = файл { $file } есть в выгрузке, но отклонён (см. его отчёт); исправьте этот файл

## Записи целиком

snapshot-deleted = "deleted": true имеет смысл только в файле изменений (delta); в полной выгрузке просто не включайте запись (или отправьте её в <тип>.delta.json)
snapshot-mass_delete = эта полная выгрузка удалила бы на портале { $removed } из { $published } { $published ->
    [one] записи
   *[other] записей
} типа { $type } ({ $share }%, допустимо не более { $limit }%): записи, которых нет в полной выгрузке, удаляются. Если так и задумано, выполните `compo-exchange release { $file }` или увеличьте snapshot.mass_delete_by_type.{ $type } в настройках; иначе проверьте отбор в обработке выгрузки или отправьте изменения файлом { $type }.delta.json
normalised-published = { $file } принят, { $count } { $count ->
    [one] значение приведено
    [few] значения приведены
   *[many] значений приведено
} от формы 1С к канонической ({ $codes }); список — в отчёте рядом с архивной копией файла. Исправьте выгрузку, когда будет время, или включите validation.strict, чтобы такие файлы отклонялись
snapshot-mass_delete-empty = файл — пустая полная выгрузка: её публикация удалила бы все { $published } { $published ->
    [one] запись
    [few] записи
   *[many] записей
} типа { $type } на портале. Если в учётной системе их действительно не осталось, выполните `compo-exchange release { $file }`; иначе проверьте отбор в обработке выгрузки
security-password_field = поле «{ $field }» похоже на пароль; пароли на портал не передаются, пользователи задают их сами: уберите это поле из выгрузки

## Контрагенты: ИНН, КПП, ОГРН, банковские счета

inn-format-digits = ИНН «{ $inn }» должен состоять только из цифр ({ $kind ->
    [legal] у юридического лица их 10
    [entrepreneur] у индивидуального предпринимателя их 12
    [person] у физического лица их 12
   *[other] их 10 у юридического лица или 12 у предпринимателя и физического лица
}); уберите пробелы и другие символы в 1С
inn-format-length = в ИНН «{ $inn }» { $length ->
    [one] { $length } цифра
    [few] { $length } цифры
   *[other] { $length } цифр
}, а ИНН { $kind ->
    [legal] юридического лица состоит из 10
    [entrepreneur] индивидуального предпринимателя состоит из 12
   *[person] физического лица состоит из 12
}; проверьте номер и вид контрагента (kind)
inn-format-length-any = в ИНН «{ $inn }» { $length ->
    [one] { $length } цифра
    [few] { $length } цифры
   *[other] { $length } цифр
}; ИНН состоит из 10 цифр (юридическое лицо) или из 12 (предприниматель, физическое лицо); проверьте номер в 1С
inn-checksum = в ИНН «{ $inn }» { $count ->
    [one] неверная контрольная цифра (ожидается { $digits } в позиции { $positions })
   *[other] неверные контрольные цифры (ожидаются { $digits } в позициях { $positions })
}; проверьте номер в 1С
kpp-format = КПП «{ $kpp }» не соответствует формату: 9 знаков — 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры (например, 773601001); исправьте его в 1С
kpp-format-not-legal = указан КПП «{ $kpp }», но КПП бывает только у юридических лиц, а этот контрагент — { $kind ->
    [entrepreneur] индивидуальный предприниматель
   *[person] физическое лицо
}; уберите КПП
ogrn-format-person = ОГРН «{ $ogrn }» указан у физического лица, а у него ОГРН нет (ОГРН бывает у юридического лица, ОГРНИП у предпринимателя); уберите его или исправьте вид контрагента
ogrn-format = в ОГРН «{ $ogrn }» { $digits ->
    [yes] { $length ->
        [one] { $length } цифра
        [few] { $length } цифры
       *[other] { $length } цифр
    }
   *[no] есть не только цифры
}, а { $kind ->
    [legal] ОГРН юридического лица состоит из 13 цифр
    [entrepreneur] ОГРНИП предпринимателя состоит из 15 цифр
   *[other] ОГРН состоит из 13 цифр, ОГРНИП из 15
}; проверьте номер и вид контрагента (kind)
ogrn-checksum = в { $length ->
    [15] ОГРНИП
   *[other] ОГРН
} «{ $ogrn }» неверная контрольная цифра (ожидается { $expected } в позиции { $length }); проверьте номер в 1С
account-checksum = счёт «{ $account }» не соответствует БИК «{ $bik }»; сверьте оба номера с реквизитами банка
account-checksum-key = счёт «{ $account }» не соответствует БИК «{ $bik }»: для этого БИК контрольный разряд (9-я цифра) должен быть { $key }; сверьте оба номера с реквизитами банка

## Штрихкоды

barcode-checksum = у штрихкода «{ $barcode }» неверная контрольная цифра (последней должна быть { $expected }); исправьте штрихкод или уберите его

## Суммы и точность

sum-mismatch-amount = { $field } = { $amount }, а количество × цена = { $quantity } × { $price } = { $expected }; исправьте сумму, количество или цену в документе 1С
sum-mismatch-amount-discount = { $field } = { $amount }, а количество × цена × (1 − скидка/100) = { $quantity } × { $price } × (1 − { $discount }/100) = { $expected }; исправьте сумму, количество или цену в документе 1С
sum-mismatch-total = total = { $total }, а сумма { $count ->
    [one] { $count } строки
   *[other] { $count } строк
} (amount) = { $sum }; исправьте итог или суммы строк
sum-mismatch-total-delivery = total = { $total }, а сумма { $count ->
    [one] { $count } строки
   *[other] { $count } строк
} (amount) = { $sum } плюс доставка delivery.cost { $cost } = { $expected }; исправьте итог или суммы строк
sum-mismatch-balance = closing_balance = { $closing }, а opening_balance { $opening } + дебет { $debit } − кредит { $credit } = { $expected }; исправьте конечное сальдо или строки акта
number-precision = { $field } = { $value }: { $digits ->
    [one] { $digits } знак
    [few] { $digits } знака
   *[other] { $digits } знаков
} после запятой, а у { $kind ->
    [price] цен
   *[money] денежных сумм
} их не больше { $max }: округлите значение при выгрузке

## Даты

date-invalid-month = { $field } «{ $value }» — несуществующая дата: месяца { $month } нет; исправьте дату в 1С
date-invalid-day = { $field } «{ $value }» — несуществующая дата: в { $month ->
    [1] январе
    [2] феврале
    [3] марте
    [4] апреле
    [5] мае
    [6] июне
    [7] июле
    [8] августе
    [9] сентябре
    [10] октябре
    [11] ноябре
   *[12] декабре
} { $year } года { $days ->
    [one] { $days } день
    [few] { $days } дня
   *[other] { $days } дней
}, а не { $day }; исправьте дату в 1С
date-invalid-hour = { $field } «{ $value }» — несуществующее время: часа { $hour } нет; исправьте его в 1С
date-invalid-minute = { $field } «{ $value }» — несуществующее время: минуты { $minute } нет; исправьте его в 1С
date-invalid-second = { $field } «{ $value }» — несуществующее время: секунды { $second } в минуте { $minute } нет; исправьте его в 1С
date-invalid-offset = { $field } «{ $value }» — несуществующее время: смещения от UTC { $offset } не бывает; исправьте его в 1С
date-range = { $to_field } { $to } раньше, чем { $from_field } { $from }; исправьте одну из дат (или поменяйте их местами)

## Прикреплённые файлы

file-name-empty = пустое имя файла в { $folder }/ недопустимо
file-name-separator = в имени «{ $name }» есть разделитель пути; прикреплённые файлы лежат прямо в { $folder }/: переложите файл и ссылайтесь на него по имени без пути
file-name-control = в имени «{ $name }» есть управляющий символ; переименуйте файл
file-name-hidden = имя «{ $name }» начинается с точки (скрытый файл); переименуйте его
file-name-dots = в имени «{ $name }» есть «..»; переименуйте файл, чтобы в имени не было двух точек подряд
file-name-character = в имени «{ $name }» есть символ «{ $character }»; в именах допустимы только латинские буквы, цифры, «.», «_» и «-»: переименуйте файл (транслитерируйте, пробелы замените на «_»)
file-name-long = имя «{ $name }» длиной { $length ->
    [one] { $length } символ
    [few] { $length } символа
   *[other] { $length } символов
}, больше { $max }; сократите его
file-name-no-extension = у имени «{ $name }» нет расширения; файлы в { $folder }/ должны оканчиваться одним из: { $allowed }
file-name-extension = у имени «{ $name }» расширение «.{ $extension }», недопустимое в { $folder }/; допустимы: { $allowed }
file-empty-attached = файл { $file } пуст (0 байт); выгрузите его заново
file-too_large = файл { $file } занимает { $size }, больше предела { $limit } для { $folder }/; уменьшите файл или увеличьте { $key } в настройках
file-magic = файл { $file } — это { $found }, а не { $expected }; выгрузите его заново или исправьте расширение
file-magic-unknown = файл { $file } не похож на то, чем должен быть ({ $expected }): он начинается с байтов { $bytes }; выгрузите его заново или исправьте расширение

## Форматы партнёров (мосты команды convert)

convert-unsupported = { $what } не преобразуется
convert-required = { $what } обязательно в целевом формате, но в исходных данных отсутствует
convert-value = { $what } невозможно представить в целевом формате
xml-syntax = ошибка в XML: { $problem }

## Ключевые слова JSON Schema (код schema.<ключевое слово>)

schema-required = нет обязательного поля «{ $field }»; добавьте его
schema-type = { $field } должно быть { $expected }, а это { $found }: { $value }; запишите значение { $expected }
schema-type-or = { $first } или { $second }
schema-record = запись
schema-type-name = { $type ->
    [string] строкой (текст в кавычках)
    [number] числом
    [integer] целым числом
    [boolean] true или false
    [array] массивом [ ... ]
    [object] объектом { "{" } ... { "}" }
   *[null] null
}
schema-type-found = { $type ->
    [string] строка
    [number] число
    [boolean] логическое значение
    [array] массив
    [object] объект
   *[null] null
}
schema-enum = { $field } = { $value } — недопустимое значение; допустимы: { $allowed }
schema-const = { $field } = { $value }; допустимо только значение { $expected }
schema-pattern = { $field } = «{ $value }» — не подходит по формату: { $description }; например, { $examples }
schema-pattern-undescribed = { $field } «{ $value }» не соответствует формату, который требует схема (у шаблона нет описания: см. файл схемы)
# Что означает каждый шаблон схем (для $description в schema-pattern); английский текст — description схемы.
pattern-about-id = Идентификатор: от 1 до 64 символов без управляющих символов (без переводов строки и табуляций).
pattern-about-date = Дата в виде ГГГГ-ММ-ДД.
pattern-about-datetime = Дата и время со смещением от UTC по RFC 3339.
pattern-about-currency = Код валюты по ISO 4217: три заглавные латинские буквы.
pattern-about-country = Код страны по ISO 3166-1 alpha-2: две заглавные латинские буквы.
pattern-about-email = Адрес электронной почты.
pattern-about-fileName = Имя прикреплённого файла без папки: латинские буквы, цифры, точка, подчёркивание и дефис, не длиннее 128 символов.
pattern-about-barcodes = Штрихкод из 8, 12, 13 или 14 цифр (EAN-8, UPC-A, EAN-13, GTIN-14).
pattern-about-bik = БИК банка: 9 цифр.
pattern-about-account = Расчётный счёт: 20 цифр (контрольный разряд по БИК проверяется отдельно).
pattern-about-corr_account = Корреспондентский счёт банка: 20 цифр.
schema-minimum = { $field } = { $value }, меньше минимума { $limit }; исправьте значение
schema-exclusiveMinimum = { $field } = { $value }; значение должно быть больше { $limit }
schema-maximum = { $field } = { $value }, больше максимума { $limit }; исправьте значение
schema-exclusiveMaximum = { $field } = { $value }; значение должно быть меньше { $limit }
schema-minLength = { $field } «{ $value }» короче { $limit ->
    [one] { $limit } символа
   *[other] { $limit } символов
}; заполните поле
schema-minLength-empty = { $field } пусто; заполните поле
schema-maxLength = { $field } «{ $value }» длиннее { $limit ->
    [one] { $limit } символа
   *[other] { $limit } символов
}; сократите значение
schema-minItems = в { $field } { $count ->
    [one] { $count } элемент
    [few] { $count } элемента
   *[other] { $count } элементов
}, а нужно не меньше { $limit }; добавьте недостающие
schema-maxItems = в { $field } { $count ->
    [one] { $count } элемент
    [few] { $count } элемента
   *[other] { $count } элементов
}, а допустимо не больше { $limit }; уберите лишние
schema-uniqueItems = в { $field } один и тот же элемент указан дважды; оставьте по одному
schema-additionalProperties = в { $field } есть поля, которых схема не допускает: { $names }; уберите их
schema-oneOf = в { $field } должно быть ровно одно из полей { $names }; оставьте одно
schema-oneOf-none = { $field } не подходит ни под один из вариантов, которые допускает схема; см. описание поля в схеме
schema-oneOf-many = { $field } подходит сразу под несколько вариантов схемы, а должно ровно под один; см. описание поля в схеме
schema-other = { $field }: { $detail } (ключевое слово JSON Schema { $keyword })

## Что пишут учётные системы вместо канонической формы (спецификация 4.1): нормализуется с предупреждением или отклоняется

date-datetime = { $field } — это дата, а выгружено дата и время «{ $written }»; опубликовано «{ $date }». Выгружайте даты в виде ГГГГ-ММ-ДД, например 2026-11-20 (в 1С: Формат(Дата, "ДФ=yyyy-MM-dd"))
date-datetime-converted = { $field } — это дата, а выгружено дата и время со смещением «{ $written }»; опубликована дата в поясе { $zone }: «{ $date }». Выгружайте даты в виде ГГГГ-ММ-ДД, например 2026-11-20 (в 1С: Формат(Дата, "ДФ=yyyy-MM-dd"))
date-datetime-time = { $field } — это дата, а выгружено дата и время «{ $written }», и время не полночь ({ $time }); опубликовано «{ $date }» без времени: проверьте, что выгрузка пишет нужную дату, в виде ГГГГ-ММ-ДД
date-datetime-converted-time = { $field } — это дата, а выгружено дата и время со смещением «{ $written }», в поясе { $zone } это { $time }, не полночь; опубликовано «{ $date }» без времени: проверьте, что выгрузка пишет нужную дату, в виде ГГГГ-ММ-ДД
datetime-no_offset = { $field } «{ $written }» без смещения часового пояса; опубликовано «{ $published }» по поясу { $zone } (validation.timezone). Выгружайте со смещением, например 2026-11-20T09:30:00+03:00 (в 1С: ВариантЗаписиДатыJSON.ЛокальнаяДатаСоСмещением)
date-empty = в { $field } пустая дата 1С «{ $written }»; поле не передаётся. Не выгружайте пустые даты
value-null = { $field } равно null; поле не передаётся (null и отсутствие поля означают одно и то же). Не выгружайте пустые поля
ref-empty = { $field } — пустая строка (""); поле не передаётся. Не выгружайте пустые ссылки (проверяйте ЗначениеЗаполнено)
ref-empty-guid = в { $field } пустая ссылка 1С (00000000-0000-0000-0000-000000000000); поле не передаётся. Не выгружайте пустые ссылки (проверяйте ЗначениеЗаполнено)
value-empty = { $field } — пустая строка (""); поле не передаётся. Не выгружайте пустые поля
value-empty-guid = в { $field } пустая ссылка 1С (00000000-0000-0000-0000-000000000000); поле не передаётся. Не выгружайте пустые значения (проверяйте ЗначениеЗаполнено)
value-required_empty-date = пустая дата 1С в { $field }: поле обязательное, заполните его в учётной системе
value-required_empty-guid = пустая ссылка 1С (00000000-0000-0000-0000-000000000000) в { $field }: поле обязательное, заполните его в учётной системе
value-required_empty-string = пустое значение "" в { $field }: поле обязательное, заполните его в учётной системе
value-required_empty-null = null в { $field }: поле обязательное, заполните его в учётной системе
value-blank = { $field } обязательно, но не заполнено («{ $written }»): заполните его в учётной системе
vat-fraction = { $field } равно { $value }: доля вместо процента (20 означает 20%); если имеется в виду { $percent }%, выгружайте { $percent }
id-whitespace = { $field } «{ $written }» начинается или заканчивается пробелом, а пробел — часть идентификатора: ссылка без него эту запись не найдёт; уберите пробелы в выгрузке (СокрЛП)
file-size-bytes = { $bytes } байт
file-size = { $amount } { $unit ->
    [MiB] МиБ
   *[KiB] КиБ
} ({ $bytes } байт)
file-kind = { $kind ->
    [jpeg] изображение JPEG
    [png] изображение PNG
    [gif] изображение GIF
    [webp] изображение WebP
    [bmp] изображение BMP
    [tiff] изображение TIFF
    [heic] изображение HEIC
    [avif] изображение AVIF
    [mp4] видео MP4/QuickTime
    [pdf] документ PDF
    [xml] документ XML
    [html] веб-страница HTML
    [text] обычный текст
    [xlsx] книга Excel (xlsx)
    [docx] документ Word (docx)
    [xls] книга Excel 97-2003 (xls)
    [doc] документ Word 97-2003 (doc)
    [zip] архив ZIP
    [zip-or-office] архив ZIP (или документ xlsx/docx)
    [ole] документ старого формата Office (xls/doc)
    [gzip] архив gzip
    [rar] архив RAR
    [sevenzip] архив 7-Zip
   *[other] файл этого типа
}

## Текстовый вывод команды validate

output-error = ошибка
output-warning = предупреждение
output-record = запись { $record }, { $pointer }
output-summary = { $files ->
    [one] { $files } файл
    [few] { $files } файла
   *[other] { $files } файлов
}, { $records ->
    [one] { $records } запись
    [few] { $records } записи
   *[other] { $records } записей
}: без ошибок { $valid }, с ошибками { $invalid }, { $errors ->
    [one] { $errors } ошибка
    [few] { $errors } ошибки
   *[other] { $errors } ошибок
}

## Страница состояния `run --http` (src/observe/page.rs)

page-title = Состояние compo-exchange
page-work-folder = Рабочая папка
page-server = Сервер обмена
page-updated = Обновлено
page-refresh-note = обновляется каждые 10 с
page-no-journal = Журнала ещё нет: в этой рабочей папке ничего не запускалось.
page-health = Исправность
page-component = Компонент
page-condition = Состояние
page-since = Начиная с
page-last-success = Последний успех
page-ok = в порядке
page-failing = сбой
page-no-health = Сбоев не записано.
page-warnings = Предупреждения
page-topic = О чём
page-message = Сообщение
page-types = Публикация по типам
page-data-type = Тип
page-schedule = Расписание
page-last-publish = Последняя публикация
page-next-tick = Следующий запуск
page-waiting = Ждут
page-retrying = Повторы
page-rejected-24h = Отклонено за 24 ч
page-at-every-check = при каждой проверке
page-never = ещё не было
page-retrying-files = Файлы, которые пробуем снова
page-file = Файл
page-state = Шаг
page-attempts = Попыток
page-last-error = Последняя ошибка
page-next-attempt = Следующая попытка
page-failing-since = Сбой с
page-none-retrying = Повторяемых файлов нет.
page-waiting-files = Файлы, ждущие своего запуска
page-staged-at = Подготовлен
page-none-waiting = Ждущих файлов нет.
page-rejections = Отклонённые файлы
page-rejections-note = за 7 дней, новые сверху
page-when = Когда
page-outcome = Итог
page-first-error = Первая ошибка
page-report = Отчёт
page-open-report = отчёт
page-report-gone = отчёт уже не хранится
page-report-gone-hint = удалён из rejected/ по rejected.keep_days или при release
page-rejected = отклонён
page-held = задержан
page-and-more = ещё
page-none-rejected = За 7 дней ни один файл не отклонён.
page-held-hint = задержан защитой от массового удаления: его пропускает compo-exchange release ИМЯ
page-collection = Приём из out/
page-last-collect = Последний сбор
page-last-delivered = Последний доставленный
page-delivered-24h = Доставлено за 24 ч
page-attached = Вложения
page-folder = Папка
page-on-server = На сервере
page-files = файлов
page-progress = Синхронизация
page-running = идёт
page-finished = завершена
page-attached-rejected = Отклонённые вложения
page-other-language = In English
file-skipped = пропущен: не файл данных протокола (имя .json) и не прикреплённый файл в pictures/ или invoices/
folder-not_walked = в подпапке { $count ->
    [one] { $count } файл данных
    [few] { $count } файла данных
   *[other] { $count } файлов данных
} ({ $example }), { $count ->
    [one] он не проверен
   *[other] они не проверены
}: подпапки — отдельные пакеты, их проверяет --recursive (или исключите их через --exclude)
input-no_data = в { $paths } не найдено ни одного файла данных: ничего не проверено. Файлы данных называются <тип>.json (products.json, prices.delta.json) и лежат в самой папке, прикреплённые файлы — в её pictures/ и invoices/{ $recursive ->
    [yes] ; --recursive просмотрел и все подпапки: проверьте имена файлов и то, что исключает --exclude
   *[no] ; для файлов в подпапках добавьте --recursive
}
