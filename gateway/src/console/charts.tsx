/**
 * The console's charts (recharts: SVG drawn by React components, so ticks and legends are DOM text
 * a test can read). Charts only draw: the exact figures are in the tables beside them.
 */
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

/** One series of a chart: the data key it draws, its legend name and colour. */
export interface Series {
  key: string;
  name?: string;
  color: string;
  /** Bars with the same stack id are stacked. */
  stackId?: string;
}

const COLORS = ["#3b6fd8", "#f08c00", "#d9480f", "#b3261e", "#2b8a3e", "#7048e8"];

/** Series for each key in turn, coloured from COLORS. */
export const seriesOf = (keys: readonly string[], stackId?: string): Series[] =>
  keys.map((key, i) => ({
    key,
    color: COLORS[i % COLORS.length] as string,
    ...(stackId ? { stackId } : {}),
  }));

/**
 * A bar chart 460 px wide: categories along the x axis (`category`), or down the y axis with
 * `vertical` (long labels such as reasons and stages), one bar per series.
 */
export function BarsChart(props: {
  data: readonly object[];
  /** The data key that names each group of bars. */
  category: string;
  series: readonly Series[];
  height: number;
  vertical?: boolean;
  /** Font size of the category labels (default 11; 10 for long ones). */
  categoryFontSize?: number;
  /** Width of the category axis when vertical. */
  categoryWidth?: number;
  /** Counts: whole numbers on the value axis. */
  wholeNumbers?: boolean;
  /** Fixed value range (ratios: [0, 1]). */
  domain?: [number, number];
  legend?: boolean;
}) {
  const categoryFont = props.categoryFontSize ?? 11;
  const valueAxis = {
    fontSize: 11,
    ...(props.wholeNumbers ? { allowDecimals: false } : {}),
    ...(props.domain ? { domain: props.domain } : {}),
  };
  return (
    <BarChart
      width={460}
      height={props.height}
      data={[...props.data]}
      {...(props.vertical ? { layout: "vertical" as const } : {})}
    >
      <CartesianGrid strokeDasharray="3 3" />
      {props.vertical ? (
        <>
          <XAxis type="number" {...valueAxis} />
          <YAxis
            type="category"
            dataKey={props.category}
            width={props.categoryWidth}
            fontSize={categoryFont}
          />
        </>
      ) : (
        <>
          <XAxis dataKey={props.category} fontSize={categoryFont} />
          <YAxis {...valueAxis} />
        </>
      )}
      <Tooltip />
      {props.legend === false ? null : <Legend />}
      {props.series.map((s) => (
        <Bar
          key={s.key}
          dataKey={s.key}
          {...(s.name ? { name: s.name } : {})}
          {...(s.stackId ? { stackId: s.stackId } : {})}
          fill={s.color}
          isAnimationActive={false}
        />
      ))}
    </BarChart>
  );
}

/** A line chart over time: `time` is the x data key (labels as given), one line per series. */
export function LinesChart(props: {
  data: readonly object[];
  time: string;
  series: readonly Series[];
  width: number;
  height: number;
}) {
  return (
    <LineChart
      width={props.width}
      height={props.height}
      data={[...props.data]}
      margin={{ top: 8, right: 16, bottom: 8, left: 8 }}
    >
      <CartesianGrid strokeDasharray="3 3" />
      <XAxis dataKey={props.time} fontSize={11} minTickGap={24} />
      <YAxis fontSize={11} />
      <Tooltip />
      <Legend />
      {props.series.map((s) => (
        <Line
          key={s.key}
          type="monotone"
          dataKey={s.key}
          {...(s.name ? { name: s.name } : {})}
          stroke={s.color}
          dot={false}
          connectNulls
          isAnimationActive={false}
        />
      ))}
    </LineChart>
  );
}
