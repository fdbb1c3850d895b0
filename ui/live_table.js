// The browser's half of ui/live_table.py: the rows on screen, patched in place.
// patch({rows, order, total, sort, desc}): `rows` are new rows whole, or changed fields
// with their key; `order` (when not null) is the keys on screen, in order.
export default {
  template: `
  <div class="hl-table-wrap" :aria-label="label">
    <table class="hl-table">
      <thead><tr>
        <th v-for="c in columns" :key="c.name" :class="['hl-col-' + c.name, c.phone ? '' : 'hl-wide']"
            :aria-sort="sortBy === c.name ? (descending ? 'descending' : 'ascending') : 'none'">
          <button type="button" class="hl-sort" @click="$emit('sort', c.name)"
                  :title="'Sort by ' + c.label.toLowerCase()">{{ c.label }}<span class="hl-arrow">{{ arrow(c.name) }}</span></button>
        </th>
      </tr></thead>
      <tbody>
        <tr v-for="r in list" :key="r.key" :data-key="r.key" :class="'hl-sev-' + r.severity">
          <td v-for="c in columns" :key="c.name" :class="['hl-col-' + c.name, c.phone ? '' : 'hl-wide']">
            <template v-if="c.name === 'status'"><span class="hl-dot" :style="{background: colors[r.status] || colors.unknown}"></span><span class="hl-status-text">{{ r.status }}</span><span v-if="r.quiet" class="hl-quiet"> · {{ r.quiet }}</span><span v-if="r.sites" class="hl-sites" title="the sites disagree"> · ⚠ {{ r.sites }}</span></template>
            <a v-else-if="c.name === 'name'" :href="r.href" class="hl-target-link">{{ r.name }}</a>
            <template v-else-if="c.name === 'since'"><time v-if="r.since" :datetime="r.since">{{ r.since }}</time><span v-else>—</span></template>
            <template v-else>{{ r[c.name] }}</template>
          </td>
        </tr>
        <tr v-if="list.length === 0"><td :colspan="columns.length" class="hl-empty">{{ empty }}</td></tr>
      </tbody>
    </table>
    <div class="hl-table-foot" v-if="count < all">
      <span>{{ count }} of {{ all }} shown</span>
      <button type="button" class="hl-more" @click="$emit('more')">Show {{ Math.min(step, all - count) }} more</button>
    </div>
  </div>`,
  props: {
    columns: Array,
    rows: Array,
    total: Number,
    sort: String,
    desc: Boolean,
    colors: Object,
    empty: String,
    label: String,
    step: Number,
  },
  data() {
    return { list: this.rows.map((r) => ({ ...r })), count: this.rows.length, all: this.total,
             sortBy: this.sort, descending: this.desc };
  },
  watch: {
    // A full redraw of the element (NiceGUI resending it) starts again from its props.
    rows(rows) {
      this.list = rows.map((r) => ({ ...r }));
      this.count = rows.length;
      this.all = this.total;
    },
  },
  methods: {
    patch(change) {
      const byKey = new Map(this.list.map((r) => [r.key, r]));
      for (const row of change.rows) {
        const known = byKey.get(row.key);
        if (known) Object.assign(known, row);
        else byKey.set(row.key, { ...row });
      }
      if (change.order) this.list = change.order.map((key) => byKey.get(key)).filter(Boolean);
      this.count = this.list.length;
      this.all = change.total;
      this.sortBy = change.sort;
      this.descending = change.desc;
    },
    arrow(name) {
      return this.sortBy === name ? (this.descending ? " ▼" : " ▲") : "";
    },
  },
};
