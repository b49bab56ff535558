/**
 * The workflow's graph as journalled with the run (its definition
 * fingerprint), so no code is needed. Nodes take their status at the selected
 * step; conditional edges are dashed.
 */
import { Graph, layout } from "@dagrejs/dagre";
import type { DefinitionFingerprint, NodeStatus } from "@wf/core";
import {
  type Edge,
  Handle,
  MarkerType,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
  useNodesState,
} from "@xyflow/react";
import { useEffect, useMemo } from "react";

const NODE_WIDTH = 170;
const NODE_HEIGHT = 54;

type GraphNodeData = {
  id: string;
  type: string;
  /** "cancelled": the node a cancel step cut short (the one that would have run next). */
  status: NodeStatus | "not-run" | "cancelled";
  next: boolean;
  previous: boolean;
};

function GraphNode({ data }: NodeProps<Node<GraphNodeData>>) {
  return (
    <div
      className={`graph-node status-${data.status}${data.next ? " is-next" : ""}${data.previous ? " is-previous" : ""}`}
      data-node={data.id}
      data-status={data.status}
      title={`${data.id} (${data.type}): ${data.status}${data.next ? ", runs next" : ""}`}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="graph-node-id">{data.id}</div>
      <div className="graph-node-type">
        {data.type} · {data.status}
        {data.next ? " · next" : ""}
      </div>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { wf: GraphNode };

/** Positions from dagre, top to bottom; statuses are filled in by the component. */
function layoutNodes(definition: DefinitionFingerprint): Node<GraphNodeData>[] {
  const graph = new Graph({ multigraph: true });
  graph.setGraph({ rankdir: "TB", nodesep: 40, ranksep: 56 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of definition.nodes) {
    graph.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  }
  definition.edges.forEach((edge, index) => {
    graph.setEdge(edge.from, edge.to, {}, String(index));
  });
  layout(graph);
  return definition.nodes.map((node) => {
    const placed = graph.node(node.id) as { x: number; y: number };
    return {
      id: node.id,
      type: "wf",
      position: { x: placed.x - NODE_WIDTH / 2, y: placed.y - NODE_HEIGHT / 2 },
      data: { id: node.id, type: node.type, status: "not-run", next: false, previous: false },
      draggable: false,
    };
  });
}

export function GraphLegend() {
  return (
    <div className="graph-legend">
      <span className="legend status-completed">completed</span>
      <span className="legend status-waiting">waiting</span>
      <span className="legend status-failed">failed</span>
      <span className="legend status-cancelled">cancelled</span>
      <span className="legend status-not-run">not run</span>
      <span className="legend legend-conditional">- - conditional</span>
    </div>
  );
}

export function RunGraph(props: {
  definition: DefinitionFingerprint;
  nodeStatuses: Record<string, NodeStatus> | null;
  nextNodeId: string | null;
  previousNodeId: string | null;
  /** True at a cancel step: its next node is shown as cut short. */
  cancelled?: boolean;
}) {
  // The run's metadata is read again as it grows: lay out again only when the graph changed.
  const shape = JSON.stringify(props.definition);
  const definition = useMemo(() => JSON.parse(shape) as DefinitionFingerprint, [shape]);
  const laidOut = useMemo(() => layoutNodes(definition), [definition]);
  // The nodes live in state so that React Flow's measurements stay on them: nodes recreated on
  // every render lose their size, and their edges are not drawn until they are measured again.
  const [nodes, setNodes, onNodesChange] = useNodesState<Node<GraphNodeData>>(laidOut);
  const { nodeStatuses, nextNodeId, previousNodeId } = props;
  const cancelled = props.cancelled === true;
  const statusKey = JSON.stringify([nodeStatuses, nextNodeId, previousNodeId, cancelled]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: statusKey stands for the four props
  useEffect(() => {
    setNodes((current) => {
      const measured = new Map(current.map((node) => [node.id, node.measured]));
      return laidOut.map((node) => ({
        ...node,
        measured: measured.get(node.id),
        data: {
          ...node.data,
          status:
            cancelled && nextNodeId === node.id
              ? "cancelled"
              : (nodeStatuses?.[node.id] ?? "not-run"),
          next: !cancelled && nextNodeId === node.id,
          previous: previousNodeId === node.id,
        },
      }));
    });
  }, [laidOut, statusKey, setNodes]);

  const edges: Edge[] = useMemo(
    () =>
      definition.edges.map((edge, index) => ({
        id: `e${index}`,
        source: edge.from,
        target: edge.to,
        className: edge.conditional ? "edge-conditional" : "edge-plain",
        label: edge.conditional ? "when" : undefined,
        style: edge.conditional
          ? { strokeDasharray: "6 4", stroke: "#b45309" }
          : { stroke: "#64748b" },
        markerEnd: {
          type: MarkerType.ArrowClosed,
          color: edge.conditional ? "#b45309" : "#64748b",
        },
      })),
    [definition],
  );

  return (
    <div className="graph" data-testid="graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        onNodesChange={onNodesChange}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1.1 }}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        proOptions={{ hideAttribution: true }}
        minZoom={0.2}
      />
    </div>
  );
}
