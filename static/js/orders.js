/* Orders: the item editor (add and remove lines without a round trip, line totals while typing, the
   last price of a known item), the order panel beside a conversation, and asking before undoing an
   order. A static file (the CSP allows no inline script); every form works without it. The totals
   shown here are a preview: the server computes the ones it stores. */
(function () {
  "use strict";

  /* An amount in the shop's currency and locale (the form's data-currency, data-locale), as the server
     writes it with Babel; plain with two decimals if the browser does not know them. */
  function money(form, cents) {
    var locale = (form.getAttribute("data-locale") || "en-US").replace("_", "-");
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency: form.getAttribute("data-currency") || "USD" })
        .format(cents / 100);
    } catch (error) {
      return (cents / 100).toFixed(2);
    }
  }

  /* Cents of a price typed as "8", "8.5" or "8.50"; null when it is not one. */
  function cents(text) {
    var match = /^\s*(\d{1,10})(?:\.(\d{0,2}))?\s*$/.exec(text || "");
    if (!match) { return null; }
    return parseInt(match[1], 10) * 100 + parseInt(((match[2] || "") + "00").slice(0, 2), 10);
  }

  function quantity(text) {
    return /^\s*\d{1,7}\s*$/.test(text || "") && parseInt(text, 10) > 0 ? parseInt(text, 10) : null;
  }

  function rowsOf(form) { return Array.prototype.slice.call(form.querySelectorAll("[data-line-items] [data-item-row]")); }

  /* Line totals, and the total of the lines typed right so far (an unfinished line does not hide it),
     with the delivery fee and the discount (taken off the items, never below zero) when they are right. */
  function updateTotals(form) {
    var items = 0, any = false;
    rowsOf(form).forEach(function (row) {
      var qty = quantity(row.querySelector("[data-item-quantity]").value);
      var price = cents(row.querySelector("[data-item-price]").value);
      var output = row.querySelector("[data-line-total]");
      if (qty !== null && price !== null) {
        output.textContent = money(form, qty * price);
        items += qty * price;
        any = true;
      } else {
        output.textContent = "—";
      }
    });
    var out = form.querySelector("[data-order-total]");
    if (!out) { return; }
    if (!any) { out.textContent = "—"; return; }
    var fee = cents((form.querySelector("[data-delivery-fee]") || {}).value || "0") || 0;
    var type = (form.querySelector("[data-discount-type]") || {}).value || "";
    var value = cents((form.querySelector("[data-discount-value]") || {}).value || "0") || 0;
    var off = type === "amount" ? value : type === "percent" && value <= 10000 ? Math.round(items * value / 10000) : 0;
    out.textContent = money(form, (off <= items ? items - off : items) + fee);
  }

  /* Rows are numbered 1, 2, 3...: their legend ("Item 2", the group's name), ids and labels follow. */
  function renumber(form) {
    rowsOf(form).forEach(function (row, index) {
      row.querySelector("[data-item-number]").textContent = String(index + 1);
      ["name", "quantity", "price"].forEach(function (part) {
        var input = row.querySelector("[data-item-" + part + "]");
        var label = row.querySelector("label[for='" + input.id + "']");
        input.id = "item-" + index + "-" + part;
        if (label) { label.setAttribute("for", input.id); }
      });
      row.querySelector("[data-line-total]").setAttribute("for", "item-" + index + "-quantity item-" + index + "-price");
      row.querySelector("[data-remove-item]").value = String(index);
    });
  }

  function addRow(form) {
    var template = form.querySelector("template[data-item-template]");
    var row = template.content.firstElementChild.cloneNode(true);
    form.querySelector("[data-line-items]").appendChild(row);
    renumber(form);
    if (window.htmx) { window.htmx.process(row); }
    row.querySelector("[data-item-name]").focus();
    updateTotals(form);
  }

  function removeRow(form, row) {
    var rows = rowsOf(form);
    var index = rows.indexOf(row);
    if (rows.length === 1) {
      row.querySelectorAll("input").forEach(function (input) {
        if (input.matches("[data-item-quantity]")) { input.value = "1"; } else { input.value = ""; }
      });
    } else {
      row.remove();
    }
    renumber(form);
    updateTotals(form);
    var remaining = rowsOf(form);
    var next = remaining[Math.min(index, remaining.length - 1)];
    (next ? next.querySelector("[data-item-name]") : form.querySelector("[data-add-item]")).focus();
  }

  /* A catalog product or a name the agent sold before brings its price (and a product its SKU), unless a
     price was typed. */
  function fillKnownPrice(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) { return; }
    var wanted = input.value.trim().toLowerCase();
    var option = Array.prototype.find.call(list.options, function (o) { return o.value.toLowerCase() === wanted; });
    var row = input.closest("[data-item-row]");
    var product = row.querySelector("input[name=item_product]");
    if (option && product && option.getAttribute("data-product")) {
      product.value = option.getAttribute("data-product");
    }
    var price = row.querySelector("[data-item-price]");
    if (option && (price.value === "" || price.getAttribute("data-autofilled") === "1")) {
      price.value = option.getAttribute("data-price");
      price.setAttribute("data-autofilled", "1");
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("button, a") : null;
    if (!target) { return; }
    var form = target.closest("[data-order-form]");
    if (form && target.matches("[data-add-item]")) {
      event.preventDefault();
      addRow(form);
    } else if (form && target.matches("[data-remove-item]")) {
      event.preventDefault();
      removeRow(form, target.closest("[data-item-row]"));
    } else if (target.matches("[data-close-panel]")) {
      var panel = document.getElementById("order-panel");
      if (!panel) { return; }
      event.preventDefault();
      var placeholder = document.createElement("div");
      placeholder.id = "order-panel";
      placeholder.hidden = true;
      panel.replaceWith(placeholder);
      if (window.location.search.indexOf("order=new") !== -1) {
        window.history.replaceState(null, "", target.getAttribute("href"));
      }
      var opener = document.querySelector("[hx-target='#order-panel']");
      if (opener) { opener.focus(); }
    } else if (target.matches("button[data-confirm]") && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  document.addEventListener("input", function (event) {
    var input = event.target;
    var form = input.closest ? input.closest("[data-order-form]") : null;
    if (!form) { return; }
    if (input.matches("[data-item-price]")) { input.removeAttribute("data-autofilled"); }
    if (input.matches("[data-item-name]")) { fillKnownPrice(input); }
    updateTotals(form);
  });

  /* An order read out of a message: picking an item for an unmatched phrase fills that phrase's line with
     the item's name, last price and product; "Kept as typed" puts the customer's words back. */
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-pick]")) { return; }
    var row = document.querySelector("[data-order-form] [data-item-row][data-unmatched='" + select.getAttribute("data-pick") + "']");
    if (!row) { return; }
    var option = select.options[select.selectedIndex];
    row.querySelector("[data-item-name]").value = option.getAttribute("data-name");
    var price = row.querySelector("[data-item-price]");
    price.value = option.getAttribute("data-price");
    price.setAttribute("data-autofilled", "1");
    row.querySelector("[data-item-product]").value = option.getAttribute("data-product");
    updateTotals(row.closest("[data-order-form]"));
  });

  /* Suggestions arrive while the agent types: a name typed in full may match one only then. */
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "known-items") {
      var active = document.activeElement;
      if (active && active.matches && active.matches("[data-item-name]")) {
        fillKnownPrice(active);
        updateTotals(active.closest("[data-order-form]"));
      }
    }
  });

  /* The panel opened (or came back after a save): put the agent where they type next. */
  document.addEventListener("htmx:afterSettle", function (event) {
    var panel = document.getElementById("order-panel");
    if (!panel || !event.detail.elt || event.detail.elt.id !== "order-panel") { return; }
    var error = panel.querySelector("[role=alert]");
    var first = panel.querySelector("[data-item-name]");
    var created = panel.querySelector(".created-order");
    if (created) {
      panel.querySelector("h2").setAttribute("tabindex", "-1");
      panel.querySelector("h2").focus();
    } else if (error) {
      var field = panel.querySelector(".has-error input") || first;
      if (field) { field.focus(); }
    } else if (first) {
      first.focus();
    }
  });
})();
