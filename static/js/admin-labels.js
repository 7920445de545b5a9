"use strict";
// The admin's autocomplete boxes (select2) replace a <select> with elements of their own that carry no
// accessible name: give each the name of the field it stands for (its <label>, or the aria-label the
// server put on the <select> in a table row), so that a screen reader says what is being chosen.
(function () {
  function fieldName(select) {
    var label = select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
    var text = label ? label.textContent : select.getAttribute("aria-label") || "";
    return text.replace(/:\s*$/, "").trim();
  }

  function nameAutocompleteBoxes() {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var box = select.nextElementSibling;
      var name = fieldName(select);
      if (!box || !name) {
        return;
      }
      box.querySelectorAll(".select2-selection, .select2-selection__rendered, .select2-search__field").forEach(
        function (element) {
          element.setAttribute("aria-label", name);
          // The box is named by the field, not by the option shown in it (which may be empty).
          element.removeAttribute("aria-labelledby");
        }
      );
    });
  }

  // After the admin's own ready handlers, which make the boxes (this file is deferred, so they come first).
  if (window.django && window.django.jQuery) {
    window.django.jQuery(nameAutocompleteBoxes);
  }
  window.addEventListener("load", nameAutocompleteBoxes);
  document.addEventListener("formset:added", function () {
    window.setTimeout(nameAutocompleteBoxes, 0);
  });
})();
