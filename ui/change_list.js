// The browser's half of ui/changes.py: state changes, newest first; `add(changes)` puts
// new ones on top and keeps `shown` of them.
export default {
  template: `
  <ol class="hl-changes" aria-label="State changes, newest first">
    <li v-for="c in list" :key="c.n" class="hl-change">
      <span class="hl-dot" :style="{background: colors[c.to] || colors.unknown}"></span>
      <a v-if="c.href" :href="c.href" class="hl-target-link">{{ c.name }}</a><b v-else>{{ c.name }}</b>
      <span>{{ c.aspect }}{{ c.from }} → {{ c.to }}</span>
      <time v-if="c.at" :datetime="c.at" class="opacity-80">{{ c.at }}</time>
      <span v-if="c.reason" class="hl-change-reason">{{ c.reason }}</span>
    </li>
    <li v-if="list.length === 0" class="hl-empty">{{ empty }}</li>
  </ol>`,
  props: { changes: Array, colors: Object, shown: Number, empty: String },
  data() {
    return { list: this.changes.slice() };
  },
  watch: {
    changes(changes) {
      this.list = changes.slice();
    },
  },
  methods: {
    add(changes) {
      this.list = changes.concat(this.list).slice(0, this.shown);
    },
  },
};
