// The add-report page: a hint beside each claim's as-of date that lies after the report's
// publication date (the claim still saves; the server says so again after the save). A file,
// not an inline script: the site's Content-Security-Policy runs scripts from the site only.
// Dates are compared as the ISO text they are typed in: "2019-12" lies after 30 December 2019
// only if its first day does, so a month or a year is compared by its own prefix.
"use strict";
(function () {
  const ISO = /^\d{4}(-\d{2}(-\d{2})?)?$/;

  function isAfter(asOf, published) {
    if (!ISO.test(asOf) || !/^\d{4}-\d{2}-\d{2}$/.test(published)) {
      return false;
    }
    return asOf > published.slice(0, asOf.length);
  }

  function update(form) {
    const published = form.querySelector("#id_published_on");
    const texts = document.getElementById("report-form-texts");
    if (!published || !texts) {
      return;
    }
    const message = texts.dataset.lateAsOf;
    form.querySelectorAll(".claim-blocks input[name$='-as_of']").forEach((input) => {
      if (input.name.includes("__prefix__")) {
        return;
      }
      const box = input.closest(".fieldBox") || input.parentElement;
      let hint = box.parentElement.querySelector(".late-as-of-hint");
      const late = isAfter(input.value.trim(), published.value.trim());
      if (late && !hint) {
        hint = document.createElement("p");
        hint.className = "late-as-of-hint";
        hint.setAttribute("role", "status");
        hint.textContent = message;
        box.insertAdjacentElement("afterend", hint);
      } else if (!late && hint) {
        hint.remove();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("report_form");
    if (!form) {
      return;
    }
    for (const event of ["input", "change", "focusout"]) {
      form.addEventListener(event, () => update(form));
    }
    // The admin's calendar sets the value without an event of the input's own.
    form.addEventListener("click", () => window.setTimeout(() => update(form), 0));
    document.addEventListener("formset:added", () => update(form));
    update(form);
  });
})();
