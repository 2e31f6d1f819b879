package graph

import (
	"bytes"
	"cmp"
	"context"
	"slices"

	"github.com/conecrm/gateway/ent"
)

// pipelineStagesInOrder returns a pipeline's stage placements in position
// order (then id), the order of the board, whether CollectFields loaded
// them (in any order) or PipelineStages queries them.
func pipelineStagesInOrder(ctx context.Context, p *ent.Pipeline) ([]*ent.PipelineStage, error) {
	stages, err := p.PipelineStages(ctx)
	if err != nil {
		return nil, err
	}
	return slices.SortedFunc(slices.Values(stages), func(a, b *ent.PipelineStage) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), bytes.Compare(a.ID[:], b.ID[:]))
	}), nil
}
