// The proof form: choosing another order puts what that order still owes in the amount.
document.addEventListener("DOMContentLoaded", () => {
  const order = document.querySelector(".proof-form select[name=order]");
  const amount = document.querySelector(".proof-form input[name=amount]");
  if (!order || !amount) return;
  order.addEventListener("change", () => {
    const owed = document.querySelector(`#owed-amounts [data-order="${CSS.escape(order.value)}"]`);
    if (owed) amount.value = owed.dataset.owed;
  });
});
