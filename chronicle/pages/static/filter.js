// Tag filter buttons for the timeline: progressive enhancement only. The buttons take the
// place of the tag links (the tags are listed once); without this script the tag links lead
// to /tags/<tag>, which list the same milestones. A bounded home page (data-hidden on the
// timeline: the older milestones are left to the year pages) filters what it holds and says
// so, linking the tag's page, which holds every one. Its words come from the tag list's data-*
// attributes, in the page's language.
(function () {
  "use strict";
  var timeline = document.getElementById("timeline");
  var tagNav = document.getElementById("tags");
  if (!timeline || !tagNav) { return; }
  var links = tagNav.querySelectorAll("a[data-tag]");
  if (!links.length) { return; }

  function words(key, shown, tag) {
    return (tagNav.getAttribute("data-" + key) || "")
      .replace("{n}", String(shown)).replace("{tag}", tag);
  }

  var box = document.createElement("fieldset");
  box.className = "filters";
  var legend = document.createElement("legend");
  legend.textContent = words("legend");
  box.appendChild(legend);
  var status = document.createElement("p");
  status.className = "muted";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  var buttons = [];
  var hrefs = {};
  var bounded = timeline.hasAttribute("data-hidden");

  function addButton(label, tag) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.setAttribute("data-filter", tag);
    button.setAttribute("aria-pressed", tag === "" ? "true" : "false");
    button.addEventListener("click", function () { apply(tag); });
    buttons.push(button);
    box.appendChild(button);
  }

  function apply(tag) {
    var shown = 0;
    timeline.querySelectorAll("li.milestone").forEach(function (item) {
      var tags = (item.getAttribute("data-tags") || "").split(" ");
      var visible = tag === "" || tags.indexOf(tag) !== -1;
      item.hidden = !visible;
      if (visible) { shown += 1; }
    });
    timeline.querySelectorAll("section.year, section.era").forEach(function (section) {
      section.hidden = !section.querySelector("li.milestone:not([hidden])");
    });
    buttons.forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-filter") === tag));
    });
    status.textContent = tag === "" ? "" :
      words(bounded ? "recent" : shown === 1 ? "one" : "other", shown, tag) + (bounded ? " " : "");
    if (tag !== "" && bounded) {
      var all = document.createElement("a");
      all.href = hrefs[tag];
      all.textContent = words("every");
      status.appendChild(all);
      status.appendChild(document.createTextNode("."));
    }
  }

  addButton(words("all"), "");
  links.forEach(function (link) {
    var count = link.querySelector(".count");
    var tag = link.getAttribute("data-tag");
    hrefs[tag] = link.getAttribute("href");
    addButton(count ? tag + " " + count.textContent : tag, tag);
  });
  var list = tagNav.querySelector("ul");
  if (list) { list.hidden = true; }
  tagNav.appendChild(box);
  timeline.insertBefore(status, timeline.firstChild);
}());
