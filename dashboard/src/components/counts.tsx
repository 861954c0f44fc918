/** A row of labelled numbers; `name` marks each for tests and styles. */
export function Counts({ items }: { items: Array<{ name: string; label: string; value: number }> }) {
  return (
    <dl class="counts">
      {items.map((item) => (
        <div key={item.name}>
          <dt>{item.label}</dt>
          <dd data-count={item.name}>{item.value.toLocaleString()}</dd>
        </div>
      ))}
    </dl>
  );
}
