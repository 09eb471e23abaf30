import assert from "node:assert/strict";
import { runCommand } from "../../src/plugins/command.ts";
import { parseGraphMeta } from "../../src/plugins/meta.ts";
import { onUnix } from "../support/platform.ts";

const unix = onUnix("runs shell-script plugins and commands");

const DICE = new URL("../fixtures/plugins/dice.sh", import.meta.url).pathname;

async function metaOutput(line: string): Promise<string> {
  const r = await runCommand({
    command: { kind: "shell", line },
    extraEnv: { MACKEREL_AGENT_PLUGIN_META: "1" },
    timeoutMs: 5000,
  });
  assert.equal(r.error, undefined);
  return r.stdout;
}

unix.test("meta: the dice plugin yields custom.dice with its labels and unit", async () => {
  assert.deepEqual(parseGraphMeta(await metaOutput(DICE)), {
    defs: [{
      name: "custom.dice",
      displayName: "My Dice",
      unit: "integer",
      metrics: [
        { name: "custom.dice.d6", displayName: "Die (d6)", isStacked: false },
        { name: "custom.dice.d20", displayName: "Die (d20)", isStacked: false },
      ],
    }],
  });
});

Deno.test("meta: a header with version=1 is parsed (labels, units, stacked)", async () => {
  const stdout = await metaOutput(`echo '# mackerel-agent-plugin version=1
{
  "graphs": {
    "query": {
      "label": "MySQL query",
      "unit": "integer",
      "metrics": [
        { "name": "foo1", "label": "Foo-1" },
        { "name": "foo2", "label": "Foo-2", "stacked": true }
      ]
    },
    "memory": {
      "label": "MySQL memory",
      "unit": "float",
      "metrics": [{ "name": "bar1", "label": "Bar-1" }]
    }
  }
}
'`);
  assert.deepEqual(parseGraphMeta(stdout), {
    defs: [
      {
        name: "custom.query",
        displayName: "MySQL query",
        unit: "integer",
        metrics: [
          { name: "custom.query.foo1", displayName: "Foo-1", isStacked: false },
          { name: "custom.query.foo2", displayName: "Foo-2", isStacked: true },
        ],
      },
      {
        name: "custom.memory",
        displayName: "MySQL memory",
        unit: "float",
        metrics: [{ name: "custom.memory.bar1", displayName: "Bar-1", isStacked: false }],
      },
    ],
  });
});

Deno.test("meta: output without the header is no meta", async () => {
  const stdout = await metaOutput('echo "just.echo.1\t1\t1397822016"');
  assert.deepEqual(parseGraphMeta(stdout), {
    none: 'bad format of first line: "just.echo.1\\t1\\t1397822016\\n"',
  });
  assert.deepEqual(parseGraphMeta("# mackerel-agent-plugin"), {
    none: "while reading the first line: EOF",
  });
  assert.deepEqual(parseGraphMeta("# mackerel-agent-plugins\n{}"), {
    none: 'bad format of first line: "# mackerel-agent-plugins\\n"',
  });
});

Deno.test("meta: version=666 is unsupported", async () => {
  const stdout = await metaOutput('echo "# mackerel-agent-plugin version=666"');
  assert.deepEqual(parseGraphMeta(stdout), { none: 'unsupported plugin meta version: "666"' });
  assert.deepEqual(parseGraphMeta("#mackerel-agent-plugin version\n{}"), {
    none: 'unsupported plugin meta version: ""',
  });
});

Deno.test("meta: header fields are whitespace-split key=value pairs", () => {
  const out = parseGraphMeta('#\tmackerel-agent-plugin  foo=bar  version=1=2\r\n{"graphs":{}}');
  assert.deepEqual(out, { defs: [] });
});

Deno.test("meta: keys are case-insensitive, unknown keys ignored, empty unit is float", () => {
  const out = parseGraphMeta(
    '# mackerel-agent-plugin\n{"GRAPHS":{"two":{"Label":"","extra":1,' +
      '"METRICS":[{"Name":"bar1","LABEL":"","Stacked":true}]}}}',
  );
  assert.deepEqual(out, {
    defs: [{
      name: "custom.two",
      unit: "float",
      metrics: [{ name: "custom.two.bar1", isStacked: true }],
    }],
  });
});

Deno.test("meta: wildcards pass through and nulls are empty", () => {
  const out = parseGraphMeta(
    '# mackerel-agent-plugin\n{"graphs":{"disk.#":{"unit":null,"metrics":[{"name":"*"}]},"n":null}}',
  );
  assert.deepEqual(out, {
    defs: [
      {
        name: "custom.disk.#",
        unit: "float",
        metrics: [{ name: "custom.disk.#.*", isStacked: false }],
      },
      { name: "custom.n", unit: "float", metrics: [] },
    ],
  });
});

Deno.test("meta: only the first JSON value is read; trailing data is ignored", () => {
  const out = parseGraphMeta('# mackerel-agent-plugin\n {"graphs":{"a":{"label":"}{"}}} garbage [');
  assert.deepEqual(out, {
    defs: [{ name: "custom.a", displayName: "}{", unit: "float", metrics: [] }],
  });
  assert.deepEqual(parseGraphMeta("# mackerel-agent-plugin\nnull trailing"), { defs: [] });
});

Deno.test("meta: bad JSON after a good header is an error", () => {
  assert.deepEqual(parseGraphMeta("# mackerel-agent-plugin\n"), {
    error: "while reading plugin configuration: EOF",
  });
  assert.deepEqual(parseGraphMeta('# mackerel-agent-plugin\n{"graphs": {'), {
    error: "while reading plugin configuration: unexpected EOF",
  });
  assert.deepEqual(parseGraphMeta("# mackerel-agent-plugin\n[1]"), {
    error:
      "while reading plugin configuration: json: cannot unmarshal array into Go value of type metrics.pluginMeta",
  });
  assert.deepEqual(parseGraphMeta('# mackerel-agent-plugin\n{"graphs":{"a":{"label":5}}}'), {
    error:
      "while reading plugin configuration: json: cannot unmarshal number into Go struct field " +
      "customGraphDef.graphs.label of type string",
  });
  const broken = parseGraphMeta('# mackerel-agent-plugin\n{"graphs": [}');
  assert.equal("error" in broken, true);
});
