"""Mongolian (Cyrillic) words of the site's interface: English message → Mongolian.

Messages with plural forms are keyed by their English plural (Mongolian keeps one form);
`%(name)s` variables are filled in after translation. A machine-assisted draft, reviewed by
no second reader yet, like the milestones' translations.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # The configured site title and subtitle (config/chronicle.toml and the defaults).
    "Mongolia–United States: a chronicle": "Монгол Улс – Америкийн Нэгдсэн Улс: шастир",
    "Milestones of the relations between Mongolia and the United States, with their sources":
        "Монгол Улс, Америкийн Нэгдсэн Улсын харилцааны чухал үйл явдлууд, эх сурвалжийн хамт",
    "Milestones of the relations between Mongolia and the United States":
        "Монгол Улс, Америкийн Нэгдсэн Улсын харилцааны чухал үйл явдлууд",
    # Page frame.
    "Skip to the content": "Агуулга руу шилжих",
    "Site": "Сайт",
    "Timeline": "Он дараалал",
    "Tags": "Шошго",
    "Years": "Онууд",
    "Sources": "Эх сурвалж",
    "Subscribe": "Захиалах",
    "Language": "Хэл",
    "Search the chronicle": "Шастираас хайх",
    "Search": "Хайх",
    "Every milestone cites the source it rests on, with the quoted passage; corrections and "
    "withdrawals stay on record in each milestone’s history.":
        "Үйл явдал бүр өөрийн эх сурвалжийг иш татсан хэсгийн хамт заадаг; залруулга, хасалт "
        "бүр тухайн үйл явдлын түүхэнд хадгалагдана.",
    "Follow:": "Дагах:",
    "Breadcrumb": "Байршил",
    "Milestones (Atom)": "Үйл явдлууд (Atom)",
    "Milestones (RSS)": "Үйл явдлууд (RSS)",
    "Milestones (JSON Feed)": "Үйл явдлууд (JSON Feed)",
    "Anniversaries (iCalendar)": "Ойн өдрүүд (iCalendar)",
    "Tagged “%(tag)s” (Atom)": "“%(tag)s” шошготой (Atom)",
    "Tagged “%(tag)s” (RSS)": "“%(tag)s” шошготой (RSS)",
    "Tagged “%(tag)s” (JSON Feed)": "“%(tag)s” шошготой (JSON Feed)",
    # Translations.
    "This translation is a machine-assisted draft that no one has reviewed yet; the English "
    "page is the reference.":
        "Орчуулгыг хянаж амжаагүй байна: энэ бол машины тусламжтай хийсэн, хараахан хэн ч "
        "хянаагүй ноорог орчуулга; англи хуудас нь эх бичвэр болно.",
    "This milestone is not translated yet: its text is shown in English.":
        "Энэ үйл явдлыг хараахан орчуулаагүй тул текстийг нь англиар харуулж байна.",
    "Translated by %(translator)s.": "Орчуулсан: %(translator)s.",
    # Home page.
    "%(num)s milestones, %(first)s–%(last)s, each with its source.":
        "%(first)s–%(last)s оны %(num)s үйл явдал, тус бүр эх сурвалжтай.",
    "%(num)s milestones, each with its source.": "%(num)s үйл явдал, тус бүр эх сурвалжтай.",
    "The %(num)s earlier milestones are not shown here.":
        "Өмнөх %(num)s үйл явдлыг энд харуулаагүй.",
    "The year pages list every milestone.": "Он бүрийн хуудас бүх үйл явдлыг жагсаадаг.",
    "%(count)s milestones from %(first)s to %(last)s, by year and era: each mark opens its "
    "milestone, each band its era below.":
        "%(first)s оноос %(last)s он хүртэлх %(count)s үйл явдал, он ба үеэр нь: тэмдэг бүр "
        "үйл явдлаа, зурвас бүр доорх үеэ нээнэ.",
    "Next anniversary": "Дараагийн ой",
    "today": "өнөөдөр",
    "tomorrow": "маргааш",
    "in %(days)s days": "%(days)s хоногийн дараа",
    "the %(ordinal)s anniversary of %(date)s": "%(date)s — %(ordinal)s жилийн ой",
    "No milestone is known to the day yet, so none has an anniversary.":
        "Өдрөөр нь тодорхой үйл явдал хараахан алга тул ой тэмдэглэх үйл явдал байхгүй.",
    "Browse by tag": "Шошгоор үзэх",
    "Eras": "Үеүд",
    "The chronicle holds no milestones yet.": "Шастирт одоогоор үйл явдал алга.",
    "Each tag has its own feeds too, linked from its page. The calendar holds one yearly "
    "all-day event per milestone known to the day.":
        "Шошго бүр өөрийн хуудсанд холбоос нь бүхий тусдаа сувагтай. Календарь нь өдрөөр нь "
        "тодорхой үйл явдал бүрийг жил бүр давтагдах бүтэн өдрийн үйл явдлаар агуулна.",
    # Eras (chronicle.pages.eras).
    "Early contacts": "Анхны холбоо",
    "Cold War & recognition": "Хүйтэн дайн ба хүлээн зөвшөөрөлт",
    "Democratic transition": "Ардчилсан шилжилт",
    "Partnership": "Түншлэл",
    "Strategic partnership": "Стратегийн түншлэл",
    # Listings.
    "Milestones tagged “%(tag)s”": "“%(tag)s” шошготой үйл явдлууд",
    "Milestones of %(year)s": "%(year)s оны үйл явдлууд",
    "%(num)s milestones.": "%(num)s үйл явдал.",
    "Follow this tag:": "Энэ шошгыг дагах:",
    "Other years": "Бусад он",
    # A tag or source above `feed.listing_size`: an index of year pages.
    "Milestones tagged “%(tag)s” in %(year)s": "“%(tag)s” шошготой %(year)s оны үйл явдлууд",
    "Each year’s milestones are on a page of their own.":
        "Он бүрийн үйл явдлууд тус тусдаа хуудсанд байна.",
    "Browse by year": "Оноор үзэх",
    "The passages cited by milestones of %(year)s":
        "%(year)s оны үйл явдлуудын иш татсан хэсгүүд",
    "They are listed by the year of the milestones citing them, each year on a page of its "
    "own.":
        "Тэдгээрийг иш татсан үйл явдлуудын оноор жагсаасан бөгөөд он бүр тусдаа хуудастай.",
    # A milestone's page.
    "People": "Хүмүүс",
    "Places": "Газрууд",
    "the original": "эх хувь",
    "Notes on the sources": "Эх сурвалжийн тайлбар",
    "Anniversary": "Ой",
    "The anniversary of <span lang=\"en\">%(what)s</span> is marked every year on %(day)s; it "
    "is in the <a href=\"%(calendar)s\">anniversary calendar</a>.":
        "Ойг (<span lang=\"en\">%(what)s</span>) жил бүр тэмдэглэдэг: %(day)s. Энэ нь "
        "<a href=\"%(calendar)s\">ойн календарьт</a> орсон.",
    "The anniversary is marked every year on %(day)s; it is in the "
    "<a href=\"%(calendar)s\">anniversary calendar</a>.":
        "Ойг жил бүр тэмдэглэдэг: %(day)s. Энэ нь <a href=\"%(calendar)s\">ойн календарьт</a> "
        "орсон.",
    "on 28 February in other years": "бусад жилд хоёрдугаар сарын 28",
    "on 1 March in other years": "бусад жилд гуравдугаар сарын 1",
    "only in leap years": "зөвхөн өндөр жилд",
    "History of this entry": "Энэ бичлэгийн түүх",
    "When the chronicle learned of this milestone and every correction since, from its event "
    "log": "Шастир энэ үйл явдлыг хэзээ бүртгэж авсан, түүнээс хойших залруулга бүр, "
           "үйл явдлын бүртгэлээс",
    "%(num)s revisions": "%(num)s засвар",
    "Recorded": "Бүртгэсэн",
    "Revised": "Зассан",
    "Retracted": "Хассан",
    "Post drafted": "Нийтлэлийн ноорог бэлтгэсэн",
    "Post approved": "Нийтлэлийг баталсан",
    "Post held": "Нийтлэлийг зогсоосон",
    "Post sending": "Нийтлэлийг илгээж байна",
    "Post published": "Нийтлэлийг нийтэлсэн",
    "Post failed": "Нийтлэл амжилтгүй болсон",
    "Post skipped": "Нийтлэлийг алгассан",
    "log position %(position)s": "бүртгэлийн байрлал %(position)s",
    "Reason:": "Шалтгаан:",
    # Not found, retracted.
    "Not found": "Олдсонгүй",
    "Nothing here": "Энд юу ч алга",
    "There is no page at this address: the milestone, tag or year may be misspelt, or the "
    "chronicle has never held it.":
        "Энэ хаягаар хуудас алга: үйл явдал, шошго эсвэл оныг буруу бичсэн, эсвэл шастирт "
        "хэзээ ч байгаагүй байж болно.",
    "<a href=\"%(home)s\">Go to the timeline</a>, where every milestone is listed by era and "
    "year, or browse a tag:":
        "<a href=\"%(home)s\">Он дараалал руу очих</a> — тэнд бүх үйл явдлыг үе, оноор нь "
        "жагсаасан; эсвэл шошгоор үзэх:",
    "<a href=\"%(home)s\">Go to the timeline</a>, where every milestone is listed by era and "
    "year.": "<a href=\"%(home)s\">Он дараалал руу очих</a> — тэнд бүх үйл явдлыг үе, оноор "
             "нь жагсаасан.",
    "Retracted:": "Хассан:",
    "This milestone was withdrawn from the chronicle on %(when)s. It no longer appears in the "
    "timeline, the feeds or the anniversary posts.":
        "Энэ үйл явдлыг шастираас хассан: %(when)s. Одоо он дараалал, суваг, ойн нийтлэлд "
        "гарахгүй.",
    "It was dated %(date)s.": "Огноо нь: %(date)s.",
    "Back to the timeline": "Он дараалал руу буцах",
    # Search.
    "Search the chronicle’s milestones: titles, summaries, people, places and quoted sources.":
        "Шастирын үйл явдлуудаас хайх: гарчиг, хураангуй, хүмүүс, газар, иш татсан эх сурвалж.",
    "Words to find": "Хайх үг",
    "%(num)s milestones match “%(query)s”, best first.":
        "“%(query)s” гэсэн хайлтад %(num)s үйл явдал тохирлоо, хамгийн сайн тохирох нь эхэндээ.",
    "No milestone matches “%(query)s”.": "“%(query)s” гэсэн хайлтад тохирох үйл явдал алга.",
    # Sources.
    "Every passage the chronicle quotes from “%(title)s”, with the milestones citing it.":
        "“%(title)s” баримтаас шастирын иш татсан бүх хэсэг, тэдгээрийг иш татсан үйл "
        "явдлуудын хамт.",
    "The original:": "Эх хувь:",
    "The source gives no web address of its own.": "Энэ эх сурвалж өөрийн вэб хаяггүй.",
    "%(num)s passages quoted, in the order the document has them.":
        "Иш татсан %(num)s хэсэг, баримт бичигт байгаа дарааллаар.",
    "%(num)s passages quoted.": "Иш татсан %(num)s хэсэг.",
    "Cited by:": "Иш татсан үйл явдал:",
    "The documents the chronicle quotes, with every passage it rests on.":
        "Шастирын иш татсан баримт бичгүүд, түшиглэсэн хэсэг бүрийн хамт.",
    "Every document the chronicle quotes; each page lists the passages and the milestones "
    "citing them.":
        "Шастирын иш татсан бүх баримт бичиг; хуудас бүр иш татсан хэсгүүд болон тэдгээрийг "
        "иш татсан үйл явдлуудыг жагсаана.",
    # Feeds (chronicle.feeds).
    "Notes": "Тайлбар",
    "<a href=\"%(page)s\">The milestone's page</a>": "<a href=\"%(page)s\">Үйл явдлын хуудас</a>",
    "Retracted: %(title)s": "Хассан: %(title)s",
    "Retracted on %(day)s: %(reason)s": "Хассан огноо %(day)s: %(reason)s",
    "<p><strong>This milestone was retracted on %(day)s.</strong></p>":
        "<p><strong>Энэ үйл явдлыг хассан: %(day)s.</strong></p>",
    "<p>Reason: %(reason)s</p>": "<p>Шалтгаан: %(reason)s</p>",
    "<p><a href=\"%(page)s\">The milestone's page</a> keeps its history.</p>":
        "<p><a href=\"%(page)s\">Үйл явдлын хуудас</a> түүхийг нь хадгалсаар байна.</p>",
    "%(title)s (archive: entries %(first)s–%(last)s)": "%(title)s (архив: %(first)s–%(last)s)",
    "Milestones tagged “%(tag)s”. %(subtitle)s": "“%(tag)s” шошготой үйл явдлууд. %(subtitle)s",
    "%(title)s: on this day": "%(title)s: энэ өдөр",
    "Anniversary posts of the chronicle's milestones, as they went out.":
        "Шастирын үйл явдлуудын ойн нийтлэлүүд, нийтлэгдсэн дарааллаар.",
    "Posted on %(channel)s": "Нийтэлсэн суваг: %(channel)s",
    # The home page's tag filter (filter.js reads these from the tag list's data-* attributes).
    "Filter the timeline": "Он дарааллыг шүүх",
    "All": "Бүгд",
    "Showing %(num)s milestone tagged “%(tag)s”.":
        "“%(tag)s” шошготой %(num)s үйл явдал харуулж байна.",
    "Showing %(num)s milestones tagged “%(tag)s”.":
        "“%(tag)s” шошготой %(num)s үйл явдал харуулж байна.",
    "Showing %(num)s of the most recent milestones tagged “%(tag)s”;":
        "“%(tag)s” шошготой хамгийн сүүлийн үйл явдлуудаас %(num)s харуулж байна;",
    "the tag’s page lists every one": "шошгын хуудас бүгдийг нь жагсаана",
    "And %(num)s more anniversaries that day.": "Тэр өдөр дахиад %(num)s ой тохионо.",
}
